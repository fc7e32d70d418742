//! `easymlserve init` as a user runs it: each template is written by the real binary into a fresh
//! directory and then used as its README says. The Rust crate builds and passes its own test with
//! `cargo test --offline` (against this checkout's facade, the workspace's lock file and target
//! directory, so nothing is downloaded and the dependencies are not rebuilt) and its binary serves the
//! GUI; the Python service is served with the pydantic 2 venv and passes the project's own
//! `test_service.py`; the ONNX project's `serve.sh` serves the copied model. Bad names and non-empty
//! directories are refused, naming the problem.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use easymlserve_testkit::Replica;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_easymlserve");

/// A fresh directory outside the workspace (a crate inside it would be taken for a workspace member),
/// removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("easymlserve-init-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs `easymlserve init ARGS` in `dir`.
fn init(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("init")
        .args(args)
        .current_dir(dir)
        .env_remove("EASYMLSERVE_INIT_PATH")
        .output()
        .unwrap()
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The GUI page, its spec (labels and descriptions from the schema) and one `POST /process`.
async fn check_served(url: &str, description: &str, request: Value) -> Value {
    let http = reqwest::Client::new();
    let page = http.get(format!("{url}/ui/")).send().await.unwrap();
    assert_eq!(page.status(), 200, "the generated GUI is served");
    assert!(page.text().await.unwrap().contains("<html"), "the GUI page is HTML");
    let spec = http.get(format!("{url}/ui/spec")).send().await.unwrap();
    assert_eq!(spec.status(), 200);
    let spec = spec.text().await.unwrap();
    assert!(
        spec.contains(description),
        "the field's description reaches the GUI: {spec}"
    );
    let answer = http.post(format!("{url}/process")).json(&request).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    answer.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_template_builds_passes_its_test_and_serves_its_gui() {
    let scratch = Scratch::new("rust");
    // No flag: as after `cargo install --path crates/easymlserve-cli`, the dependency is the facade of
    // the checkout the binary was built from.
    let output = init(&scratch.0, &["init-test-scorer"]);
    assert_success(&output);
    let project = scratch.0.join("init-test-scorer");
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    let facade = std::fs::canonicalize(repo().join("crates/easymlserve")).unwrap();
    let expected = format!("easymlserve = {{ path = \"{}\" }}", facade.display());
    assert!(manifest.contains(&expected), "{manifest}");
    // The same versions as the workspace, so `--offline` finds them all and the target dir is reused.
    std::fs::copy(repo().join("Cargo.lock"), project.join("Cargo.lock")).unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo().join("target"), PathBuf::from);
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());

    let started = Instant::now();
    let tested = Command::new(&cargo)
        .args(["test", "--offline"])
        .current_dir(&project)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    eprintln!("cargo test of the generated crate took {:.0?}", started.elapsed());
    assert_success(&tested);
    let report = String::from_utf8_lossy(&tested.stdout);
    assert!(
        report.contains("predicts_over_http_and_names_the_bad_field ... ok"),
        "the template's own test ran and passed: {report}"
    );

    // `cargo test` built the binary too: serve it as `cargo run` would.
    let mut command = Command::new(target.join("debug/init-test-scorer"));
    command
        .args(["--port", "0", "--shutdown-delay-secs", "0"])
        .env_remove("EASYMLSERVE_PORT")
        .env_remove("EASYMLSERVE_API_KEYS");
    let mut server = Replica::start(command, Duration::from_secs(60)).await;
    let answer = check_served(
        server.url(),
        "Hours spent studying per day.",
        json!({"study_hours": 6.0, "sleep_hours": 8.0}),
    )
    .await;
    assert_eq!(answer, json!({"score": 63.0}));
    assert!(server.terminate(Duration::from_secs(30)).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_template_serves_its_gui() {
    let Some(python) = easymlserve_testkit::venv_python("PYDANTIC2") else {
        return;
    };
    let scratch = Scratch::new("python");
    assert_success(&init(&scratch.0, &["my-model", "--python"]));
    let project = scratch.0.join("my-model");
    let service = std::fs::read_to_string(project.join("service.py")).unwrap();
    assert!(service.contains("class MyModel(Service):"), "{service}");
    let requirements = std::fs::read_to_string(project.join("requirements.txt")).unwrap();
    assert!(requirements.contains("pydantic=="), "pinned: {requirements}");

    // The README's command, from the project directory.
    let mut command = Command::new(BIN);
    command
        .args([
            "serve",
            "--python",
            "service.py",
            "--port",
            "0",
            "--workers",
            "1",
            "--shutdown-delay-secs",
            "0",
        ])
        .arg("--python-bin")
        .arg(&python)
        .current_dir(&project)
        .env_remove("EASYMLSERVE_PORT")
        .env_remove("EASYMLSERVE_API_KEYS");
    let mut server = Replica::start(command, Duration::from_secs(60)).await;
    let answer = check_served(
        server.url(),
        "Hours spent studying per day.",
        json!({"study_hours": 6.0}),
    )
    .await;
    assert_eq!(answer, json!({"score": 63.0}));
    let refused = reqwest::Client::new()
        .post(format!("{}/process", server.url()))
        .json(&json!({"study_hours": 20}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    assert_eq!(refused.json::<Value>().await.unwrap()["field"], "study_hours");
    // The project's own test, against the running service, as its README says.
    let tested = Command::new(&python)
        .arg("test_service.py")
        .current_dir(&project)
        .env("EASYMLSERVE_URL", server.url())
        .output()
        .unwrap();
    assert_success(&tested);
    let report = String::from_utf8_lossy(&tested.stderr);
    assert!(report.contains("Ran 4 tests") && report.contains("OK"), "{report}");
    assert!(server.terminate(Duration::from_secs(30)).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_onnx_template_serves_the_copied_model_with_its_script() {
    let scratch = Scratch::new("onnx");
    let model = repo().join("examples/onnx/models/digits_cnn.onnx");
    assert_success(&init(&scratch.0, &["digits", "--onnx", model.to_str().unwrap()]));
    let project = scratch.0.join("digits");
    assert_eq!(
        std::fs::read(project.join("models/digits_cnn.onnx")).unwrap(),
        std::fs::read(&model).unwrap(),
        "the model is copied"
    );
    let readme = std::fs::read_to_string(project.join("README.md")).unwrap();
    assert!(readme.contains("easymlserve serve models/digits_cnn.onnx"), "{readme}");

    // `./serve.sh` as the README says, with this binary first on the PATH; from another directory.
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin_dir.to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let mut command = Command::new(project.join("serve.sh"));
    command
        .args(["--port", "0", "--shutdown-delay-secs", "0"])
        .current_dir(&scratch.0)
        .env("PATH", path)
        .env_remove("EASYMLSERVE_PORT")
        .env_remove("EASYMLSERVE_API_KEYS");
    let mut server = Replica::start(command, Duration::from_secs(60)).await;
    let example: Value =
        serde_json::from_slice(&std::fs::read(repo().join("examples/onnx/models/digits_cnn.example.json")).unwrap())
            .unwrap();
    let answer = check_served(server.url(), "image", example).await;
    assert_eq!(answer["probabilities"][0].as_array().unwrap().len(), 10, "{answer}");
    let meta: Value = reqwest::get(format!("{}/v2/models/digits_cnn", server.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["name"], "digits_cnn", "{meta}");
    assert!(server.terminate(Duration::from_secs(30)).await.success());
}

#[test]
fn bad_names_and_non_empty_directories_are_refused() {
    let scratch = Scratch::new("refused");
    for (name, says) in [
        ("2fast", "must start with an ASCII letter"),
        ("my model", "not ` `"),
        ("../escape", "must start with an ASCII letter"),
        ("fn", "Rust keyword"),
    ] {
        let output = init(&scratch.0, &[name]);
        assert_eq!(output.status.code(), Some(1), "{name}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{name}: {stderr}");
    }
    std::fs::create_dir(scratch.0.join("taken")).unwrap();
    std::fs::write(scratch.0.join("taken/notes.txt"), "mine").unwrap();
    let output = init(&scratch.0, &["taken", "--python"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("already exists and is not empty"));
    assert_eq!(
        std::fs::read_to_string(scratch.0.join("taken/notes.txt")).unwrap(),
        "mine",
        "left alone"
    );
    // An empty directory is fine.
    std::fs::create_dir(scratch.0.join("empty")).unwrap();
    assert_success(&init(&scratch.0, &["empty", "--python"]));
    assert!(scratch.0.join("empty/service.py").is_file());
    let output = init(&scratch.0, &["both", "--python", "--onnx", "x.onnx"]);
    assert_eq!(output.status.code(), Some(2), "clap refuses two templates");
    assert!(!scratch.0.join("both").exists());
}
