//! `easymlserve serve model.onnx` as a real process: an example model served with no code (REST and
//! the inference protocol answer), and a model the chosen runtime cannot run refused at start with the
//! operator named, instead of a server that never becomes ready.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_easymlserve");

fn model(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/onnx/models")
        .join(name)
}

#[test]
fn a_model_tract_cannot_run_is_refused_at_start_naming_the_operator() {
    let output = Command::new(BIN)
        .arg("serve")
        .arg(model("diabetes.onnx"))
        .args(["--onnx-runtime", "tract", "--port", "0"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("tract does not implement the operator ai.onnx.ml.Scaler"),
        "{stderr}"
    );
    let output = Command::new(BIN).args(["serve", "missing.onnx"]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot find the ONNX model `missing.onnx`"));
}

/// Kills the server when the test ends, passed or failed, so no process outlives it.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn an_onnx_file_is_served_over_rest_and_the_inference_protocol_with_no_code() {
    let child = Command::new(BIN)
        .arg("serve")
        .arg(model("digits_cnn.onnx"))
        .args(["--port", "0", "--model-name", "digits"])
        .env("NO_COLOR", "1")
        .env("EASYMLSERVE_LOG", "info")
        .env_remove("EASYMLSERVE_PORT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let child_out = (child.0.stdout.take().unwrap(), child.0.stderr.take().unwrap());
    // The log goes to standard output; errors to standard error: both are read, line by line.
    let (lines, seen) = std::sync::mpsc::channel::<String>();
    for stream in [
        Box::new(child_out.0) as Box<dyn std::io::Read + Send>,
        Box::new(child_out.1),
    ] {
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
    }
    let started = Instant::now();
    let url = loop {
        let line = seen
            .recv_timeout(Duration::from_secs(30).saturating_sub(started.elapsed()))
            .expect("the server did not say where it listens within 30 s");
        if let Some(at) = line.find("listening on http://") {
            break line[at + "listening on ".len()..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned();
        }
    };
    let http = reqwest::Client::new();
    // The listener opens before the (already loaded) model's documents are rendered: poll readiness.
    let ready = loop {
        let ready: Value = http
            .get(format!("{url}/v2/health/ready"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if ready["ready"] == true || started.elapsed() > Duration::from_secs(30) {
            break ready;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(ready, json!({"ready": true}));
    let example: Value = serde_json::from_slice(&std::fs::read(model("digits_cnn.example.json")).unwrap()).unwrap();
    let answer: Value = http
        .post(format!("{url}/process"))
        .json(&example)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["probabilities"][0].as_array().unwrap().len(), 10, "{answer}");
    let meta: Value = http
        .get(format!("{url}/v2/models/digits"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["inputs"][0]["shape"], json!([-1, 1, 8, 8]));
    let ui = http.get(format!("{url}/ui/")).send().await.unwrap();
    assert_eq!(ui.status(), 200, "the generated GUI is served");
    drop(child);
}
