//! The `load-forecasting` command as a user runs it: training on an OPSD-format file with a missing
//! value, then serving those models with flags and environment like every easymlserve binary.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::util::{request_from_csv, sample, shipped_slice, temp_dir};

const BIN: &str = env!("CARGO_BIN_EXE_load-forecasting");

/// Writes hours of the shipped series in the OPSD single-index layout, one load cell left empty.
fn opsd_file(dir: &std::path::Path) -> std::path::PathBuf {
    let series = shipped_slice("2018-11-26", "2019-01-05");
    let mut text =
        String::from("utc_timestamp,cet_cest_timestamp,DE_load_actual_entsoe_transparency,DE_solar_capacity\n");
    for (i, value) in series.load.iter().enumerate() {
        let at = load_forecasting::data::iso(series.time_ms(i));
        let cell = if i == 100 {
            String::new()
        } else {
            value.unwrap().to_string()
        };
        text.push_str(&format!("{at},unused,{cell},42\n"));
    }
    let path = dir.join("opsd.csv");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn trains_on_the_opsd_layout_and_reports_the_missing_hour() {
    let dir = temp_dir("train-opsd");
    let data = opsd_file(&dir);
    let models = dir.join("models");
    let output = Command::new(BIN)
        .args(["train", "--trees", "5", "--data"])
        .arg(&data)
        .arg("--models")
        .arg(&models)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("note: 1 of 960 hours have no load value (2018-11-30T04:00:00Z)"),
        "{stdout}"
    );
    for model in ["LR", "SVR", "RF"] {
        assert!(
            stdout.lines().any(|l| l.trim_start().starts_with(model)),
            "no {model} score: {stdout}"
        );
    }
    for file in ["lr.bin", "svr.bin", "rf.bin", "report.json"] {
        assert!(models.join(file).is_file(), "{file} missing");
    }
    let bad = Command::new(BIN)
        .args(["train", "--svr-stride", "4", "--data"])
        .arg(&data)
        .arg("--models")
        .arg(dir.join("other"))
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("stride 4 shares a factor"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn serves_with_the_usual_flags_and_prints_where_to_go() {
    let models = crate::util::tiny_models();
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--models"])
        .arg(models)
        .env("EASYMLSERVE_PORT", "1") // the flag wins
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    let url = loop {
        let line = lines
            .next()
            .expect("the command ended before printing its URL")
            .unwrap();
        if let Some(rest) = line.trim().strip_prefix("Open  ") {
            break rest
                .split_whitespace()
                .next()
                .unwrap()
                .trim_end_matches("/ui/")
                .to_owned();
        }
        seen.push(line);
    };
    let upload = lines.next().unwrap().unwrap();
    assert!(upload.contains("samples/2019-01.csv"), "{upload}");
    let http = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..500 {
        if http
            .get(format!("{url}/health/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(ready, "{url} never became ready; printed {seen:?}");
    let page = http.get(format!("{url}/ui/")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let answer = http
        .post(format!("{url}/process"))
        .json(&request_from_csv(&sample("2019-06.csv"), &["LR"]))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn openapi_prints_the_document() {
    let output = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(output.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["info"]["title"], "Load forecasting");
}
