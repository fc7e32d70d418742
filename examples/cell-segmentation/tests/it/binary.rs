//! The `cell-segmentation` binary as a user runs it: a few training steps write a weights file, `evaluate`
//! shows the committed U-Net beating the baseline, and the server honours `--port` and answers.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_cell-segmentation");

#[test]
fn a_short_training_run_writes_weights_that_evaluate_reads() {
    let dir = std::env::temp_dir().join(format!("cell-segmentation-train-{}", std::process::id()));
    let weights = dir.join("unet.safetensors");
    let output = Command::new(BIN)
        .args(["train", "--steps", "2", "--batch", "2", "--crop", "32", "--weights"])
        .arg(&weights)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("Trained 2 steps"), "{stdout}");
    let size = std::fs::metadata(&weights).unwrap().len();
    assert!((100_000..3_000_000).contains(&size), "weights file of {size} bytes");
    let output = Command::new(BIN)
        .args(["evaluate", "--weights"])
        .arg(&weights)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    std::fs::remove_dir_all(dir).unwrap();
    let bad = Command::new(BIN).args(["train", "--crop", "30"]).output().unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`crop` must be a multiple of 8"));
}

/// The F1 column of the `evaluate` row for `method`.
fn f1_of(stdout: &str, method: &str) -> f64 {
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with(method))
        .unwrap_or_else(|| panic!("no {method} row in {stdout}"));
    line.split_whitespace().nth_back(1).unwrap().parse().unwrap()
}

#[test]
fn the_committed_unet_beats_the_baseline() {
    let output = Command::new(BIN)
        .arg("evaluate")
        .env_remove("CELL_SEGMENTATION_WEIGHTS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("rows 384..512"), "{stdout}");
    let (unet, baseline) = (f1_of(&stdout, "U-Net"), f1_of(&stdout, "baseline"));
    assert!(
        unet > baseline,
        "U-Net F1 {unet} does not beat the baseline's {baseline}:\n{stdout}"
    );
}

#[tokio::test]
async fn serves_on_the_port_the_flag_names() {
    let mut child = Command::new(BIN)
        .args(["--port", "0"])
        .env("NO_COLOR", "1")
        .env_remove("EASYMLSERVE_PORT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
    }
    let url = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server never listened");
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let client = easymlserve::Client::new(url.clone()).unwrap();
    while client.ready().await.is_err() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let spec: serde_json::Value = reqwest::get(format!("{url}/api/spec"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(spec["name"], "Cell segmentation");
    let example = reqwest::get(format!("{url}/openapi.json"))
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["paths"]["/process"]["post"]["requestBody"]["content"]["application/json"]["example"]
        .clone();
    let answer = client.process_json(&example).await.unwrap();
    assert_eq!(answer["shape"], serde_json::json!([16, 16]));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
}
