//! The inference protocol with the real clients: `tests/oip/oip_clients.py` (in the server crate)
//! drives tritonclient's and KServe's REST clients against the served models — health, metadata, JSON
//! and binary infer compared with ONNX Runtime in the driver, and an error case.

use easymlserve::server::ServerConfig;
use easymlserve_onnx::RuntimeChoice;

use crate::{config, example, onnx_python, serve, venv};

fn driver() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../easymlserve-server/tests/oip/oip_clients.py")
}

async fn run_driver(url: &str, case: &str, model: &str) {
    let Some(clients) = venv("EASYMLSERVE_TEST_VENV_OIP_CLIENTS") else {
        return;
    };
    let output = tokio::process::Command::new(clients.join("bin/python"))
        .arg(driver())
        .args(["--url", url, "--case", case, "--model", model, "--onnx-file"])
        .arg(example(&format!("models/{model}.onnx")))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}");
    assert!(
        output.status.success(),
        "the clients' checks failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("ok tritonclient infer-binary") && stdout.contains("ok kserve infer-binary"),
        "{stdout}"
    );
}

#[tokio::test]
async fn tritonclient_and_kserve_drive_the_digits_cnn_on_tract() {
    let url = serve(
        config("digits_cnn.onnx", RuntimeChoice::Tract, None),
        ServerConfig::default(),
    )
    .await;
    run_driver(&url, "digits", "digits_cnn").await;
}

#[tokio::test]
async fn tritonclient_and_kserve_drive_the_regression_on_onnx_runtime() {
    let Some(python) = onnx_python() else { return };
    let url = serve(
        config("diabetes.onnx", RuntimeChoice::Auto, Some(&python)),
        ServerConfig::default(),
    )
    .await;
    run_driver(&url, "regression", "diabetes").await;
}
