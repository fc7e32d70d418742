//! `easymlserve serve --model-dir DIR` (and `STORAGE_URI`) as a real process, the way a cluster starts
//! it with the model mounted in a directory: one `.onnx` file or a `service.py` is served; remote URLs,
//! empty directories and directories with several models are refused at start, naming the setting.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use easymlserve_testkit::{Replica, venv_python};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_easymlserve");

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/onnx/models")
        .join(name)
}

/// A fresh directory for one test, holding copies of `files` from the ONNX examples.
fn model_dir(test: &str, files: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("easymlserve-model-dir-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for file in files {
        std::fs::copy(example(file), dir.join(file)).unwrap();
    }
    dir
}

/// `easymlserve` with the variables this test controls removed, so the caller's shell cannot leak in.
fn command() -> Command {
    let mut command = Command::new(BIN);
    command
        .env("NO_COLOR", "1")
        .env("EASYMLSERVE_LOG", "info")
        .env_remove("EASYMLSERVE_PORT")
        .env_remove("PORT")
        .env_remove("EASYMLSERVE_MODEL_DIR")
        .env_remove("STORAGE_URI")
        .env_remove("EASYMLSERVE_LOG_FORMAT")
        .stdin(Stdio::null());
    command
}

/// Serves `command` on a free port and waits until it is ready; killed when the test ends, passed or
/// failed.
async fn serve(mut command: Command) -> Replica {
    command.args(["--port", "0"]);
    Replica::start(command, Duration::from_secs(60)).await
}

async fn process(http: &reqwest::Client, url: &str, body: &Value) -> Value {
    let answer = http.post(format!("{url}/process")).json(body).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

fn digits_example() -> Value {
    serde_json::from_slice(&std::fs::read(example("digits_cnn.example.json")).unwrap()).unwrap()
}

#[tokio::test]
async fn a_directory_with_one_onnx_file_serves_it_as_the_file_itself_would_be() {
    let http = reqwest::Client::new();
    let dir = model_dir("one", &["digits_cnn.onnx", "digits_cnn.example.json"]);
    let mut from_dir = command();
    from_dir.arg("serve").arg("--model-dir").arg(&dir);
    let from_dir = serve(from_dir).await;
    let mut from_file = command();
    from_file.arg("serve").arg(example("digits_cnn.onnx"));
    let from_file = serve(from_file).await;

    let answer = process(&http, from_dir.url(), &digits_example()).await;
    assert_eq!(answer["probabilities"][0].as_array().unwrap().len(), 10, "{answer}");
    assert_eq!(answer, process(&http, from_file.url(), &digits_example()).await);
    let spec: Value = http
        .get(format!("{}/api/spec", from_dir.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(spec["name"], "digits_cnn", "the name is the file's stem: {spec}");
    drop((from_dir, from_file));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn storage_uri_with_a_file_url_is_used_when_no_model_is_named() {
    let http = reqwest::Client::new();
    let dir = model_dir("storage-uri", &["digits_cnn.onnx"]);
    let mut served = command();
    served
        .arg("serve")
        .env("STORAGE_URI", format!("file://{}", dir.display()));
    let served = serve(served).await;
    let answer = process(&http, served.url(), &digits_example()).await;
    assert_eq!(answer["probabilities"][0].as_array().unwrap().len(), 10, "{answer}");
    drop(served);

    // `--model-dir` wins over `STORAGE_URI`, which then is not even looked at.
    let mut served = command();
    served
        .arg("serve")
        .arg("--model-dir")
        .arg(&dir)
        .env("STORAGE_URI", "s3://bucket/elsewhere");
    let served = serve(served).await;
    drop(served);
    std::fs::remove_dir_all(dir).unwrap();
}

fn refused(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn remote_locations_are_refused_naming_the_setting_and_saying_nothing_is_downloaded() {
    let output = command()
        .arg("serve")
        .env("STORAGE_URI", "s3://bucket/models/digits")
        .output()
        .unwrap();
    let stderr = refused(&output);
    assert!(
        stderr.contains("`STORAGE_URI` is `s3://bucket/models/digits`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("does not download") && stderr.contains("/mnt/models"),
        "{stderr}"
    );
    for remote in ["gs://bucket/m", "https://models.example.org/m.onnx", "pvc://claim/m"] {
        let output = command().args(["serve", "--model-dir", remote]).output().unwrap();
        let stderr = refused(&output);
        assert!(
            stderr.contains("`--model-dir`") && stderr.contains("does not download"),
            "{stderr}"
        );
    }
}

#[test]
fn a_directory_without_exactly_one_model_is_refused_naming_what_it_holds() {
    let empty = model_dir("empty", &[]);
    let output = command().arg("serve").arg("--model-dir").arg(&empty).output().unwrap();
    let stderr = refused(&output);
    assert!(
        stderr.contains("`--model-dir`") && stderr.contains("no `.onnx` file"),
        "{stderr}"
    );
    assert!(stderr.contains("it is empty"), "{stderr}");

    let other = model_dir("other", &["digits_cnn.example.json"]);
    let output = command()
        .arg("serve")
        .env("EASYMLSERVE_MODEL_DIR", &other)
        .output()
        .unwrap();
    let stderr = refused(&output);
    assert!(stderr.contains("found: digits_cnn.example.json"), "{stderr}");

    let several = model_dir("several", &["digits_cnn.onnx", "diabetes.onnx"]);
    let output = command()
        .arg("serve")
        .arg("--model-dir")
        .arg(&several)
        .output()
        .unwrap();
    let stderr = refused(&output);
    assert!(
        stderr.contains("several `.onnx` files (diabetes.onnx, digits_cnn.onnx)"),
        "{stderr}"
    );

    let output = command()
        .arg("serve")
        .arg("--model-dir")
        .arg(several.join("digits_cnn.onnx"))
        .output()
        .unwrap();
    assert!(refused(&output).contains("not a directory"));

    let output = command().arg("serve").output().unwrap();
    assert!(refused(&output).contains("nothing to serve"));
    for dir in [empty, other, several] {
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn model_dir_conflicts_with_a_named_model() {
    let output = command()
        .arg("serve")
        .arg(example("digits_cnn.onnx"))
        .args(["--model-dir", "/mnt/models"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--model-dir"), "{stderr}");
    let output = command()
        .args(["serve", "--python", "service.py", "--model-dir", "/mnt/models"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[tokio::test]
async fn a_directory_with_service_py_runs_it_and_its_output_is_logged_as_json() {
    let Some(python) = venv_python("SDK_PYDANTIC2") else {
        return;
    };
    let dir = model_dir("python", &[]);
    std::fs::write(
        dir.join("service.py"),
        r#"from pydantic import BaseModel
from easymlserve import Context, Service


class Request(BaseModel):
    text: str


class Response(BaseModel):
    shout: str
    request_id: str


class Shout(Service):
    name = "Shout"

    def load_model(self) -> None:
        print("shout model loaded", flush=True)

    def process(self, request: Request, ctx: Context) -> Response:
        print(f"shouting {request.text}", flush=True)
        return Response(shout=request.text.upper(), request_id=ctx.request_id)
"#,
    )
    .unwrap();
    let http = reqwest::Client::new();
    let mut served = command();
    served
        .arg("serve")
        .arg("--model-dir")
        .arg(&dir)
        .args(["--workers", "1", "--log-format", "json", "--python-bin"])
        .arg(python);
    let mut served = serve(served).await;
    let answer = http
        .post(format!("{}/process", served.url()))
        .header("x-request-id", "py-1")
        .json(&serde_json::json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-request-id"], "py-1");
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["shout"], "HI");
    assert_eq!(answer["request_id"], "py-1", "the model sees the request's id");
    // The generated GUI calls the model in process: the model sees that request's id too.
    let form = "--form\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nvia gui\r\n--form--\r\n";
    let answer = http
        .post(format!("{}/ui/submit", served.url()))
        .header("x-request-id", "gui-7")
        .header("content-type", "multipart/form-data; boundary=form")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-request-id"], "gui-7");
    let body = answer.text().await.unwrap();
    assert!(body.contains("VIA GUI") && body.contains("gui-7"), "{body}");
    // Stop it and read everything it printed: every line, the worker's own output too, is JSON.
    let exit = served.terminate(Duration::from_secs(30)).await;
    assert!(exit.success(), "{exit}");
    let lines = served.log();
    let logged: Vec<Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    let said = |text: &str| logged.iter().any(|l| l["message"] == text && l["stream"] == "stdout");
    assert!(said("shouting hi"), "{lines:#?}");
    let access = logged
        .iter()
        .find(|l| l["target"] == "easymlserve::access" && l["request_id"] == "py-1")
        .unwrap_or_else(|| panic!("no access line: {lines:#?}"));
    assert_eq!(
        (access["route"].as_str(), access["status"].as_u64()),
        (Some("/process"), Some(200))
    );
    std::fs::remove_dir_all(dir).unwrap();
}
