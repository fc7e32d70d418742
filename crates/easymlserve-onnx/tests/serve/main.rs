//! The example ONNX models (`examples/onnx/models`) served over real HTTP on 127.0.0.1:0: their spec,
//! schemas and docs from the tensors, answers equal to ONNX Runtime's own, 422s naming the tensor and
//! its shape, batching along the first dimension, the runtime choice, the inference protocol with
//! tritonclient and KServe's client, and the generated GUI in headless Chromium.
//!
//! Comparisons with ONNX Runtime need `$EASYMLSERVE_TEST_VENV_ONNX` (scikit-learn, onnxruntime) and the
//! client checks `$EASYMLSERVE_TEST_VENV_OIP_CLIENTS`; `scripts/test` creates both. Without them those
//! tests say they are skipped and pass.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod browser;
mod clients;
mod models;

use std::path::{Path, PathBuf};

use easymlserve::ServeUi;
use easymlserve::server::{Server, ServerConfig};
use easymlserve_onnx::{OnnxBackend, OnnxConfig, RuntimeChoice};
use serde_json::Value;

/// A file of the ONNX example.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/onnx")
        .join(name)
}

/// The virtualenv `scripts/test` made for `variable`, or `None` (and a note) when it is not set.
pub fn venv(variable: &str) -> Option<PathBuf> {
    match std::env::var_os(variable) {
        Some(dir) => Some(PathBuf::from(dir)),
        None => {
            eprintln!("skipped: {variable} is not set; scripts/test creates it");
            None
        }
    }
}

/// The onnx venv's Python (where ONNX Runtime's library is found), when there is one.
pub fn onnx_python() -> Option<PathBuf> {
    venv("EASYMLSERVE_TEST_VENV_ONNX").map(|v| v.join("bin/python"))
}

/// A config for `model` with `runtime`, finding ONNX Runtime in `python`'s package.
pub fn config(model: &str, runtime: RuntimeChoice, python: Option<&Path>) -> OnnxConfig {
    OnnxConfig {
        runtime,
        python: python.map_or_else(|| PathBuf::from("/nonexistent/python"), Path::to_owned),
        ort_library: None,
        sessions: 2,
        ..OnnxConfig::new(example(&format!("models/{model}")))
    }
}

/// Serves `config` with the generated GUI on 127.0.0.1:0 with `server` settings; returns the URL.
pub async fn serve(config: OnnxConfig, server: ServerConfig) -> String {
    let app = Server::from_backend(OnnxBackend::new(config))
        .config(server)
        .with_generated_ui();
    easymlserve_testkit::serve(app).await
}

/// `POST /process` with `body`: status and JSON answer.
pub async fn process(url: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}/process"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// ONNX Runtime's own outputs for `input` (a JSON request), from `examples/onnx/reference.py`.
pub fn reference(python: &Path, model: &str, input: &Value) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("input.json");
    std::fs::write(&file, serde_json::to_vec(input).unwrap()).unwrap();
    let output = std::process::Command::new(python)
        .arg(example("reference.py"))
        .arg(example(&format!("models/{model}")))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "reference.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The numbers of a nested JSON array, in order.
pub fn numbers(value: &Value) -> Vec<f64> {
    match value {
        Value::Array(items) => items.iter().flat_map(numbers).collect(),
        other => other.as_f64().into_iter().collect(),
    }
}

/// The largest absolute difference of two equally long number lists, checked against `1e-5` relative
/// to the largest reference value (float32's precision).
pub fn assert_close(got: &[f64], want: &[f64], what: &str) -> f64 {
    assert_eq!(
        got.len(),
        want.len(),
        "{what}: {} values, ONNX Runtime gives {}",
        got.len(),
        want.len()
    );
    let diff = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    let scale = want.iter().map(|x| x.abs()).fold(1.0, f64::max);
    eprintln!("{what}: max absolute difference to ONNX Runtime {diff:.3e} (largest value {scale:.3})");
    assert!(diff <= 1e-5 * scale, "{what}: differs from ONNX Runtime by {diff}");
    diff
}
