//! The `echo` binary as a user runs it: configured by environment and flags, answering over HTTP,
//! printing its OpenAPI document, and exiting 0 on SIGTERM.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::net::TcpListener;
use std::process::{Command, ExitStatus};
use std::time::Duration;

use easymlserve_testkit::Replica;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_echo");

/// Starts `echo` with `args` and `env` (and none of the variables this test controls from the caller's
/// shell) and waits until it is ready.
async fn start(args: &[&str], env: &[(&str, &str)]) -> Replica {
    let mut command = Command::new(BIN);
    command.args(args).env("NO_COLOR", "1");
    for var in [
        "EASYMLSERVE_HOST",
        "EASYMLSERVE_PORT",
        "PORT",
        "EASYMLSERVE_API_KEYS",
        "EASYMLSERVE_API_KEYS_FILE",
    ] {
        command.env_remove(var);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    Replica::start(command, Duration::from_secs(60)).await
}

/// Stops it with SIGTERM; returns how it exited and every line it printed.
async fn stop(mut running: Replica) -> (ExitStatus, Vec<String>) {
    let status = running.terminate(Duration::from_secs(30)).await;
    (status, running.log())
}

#[tokio::test]
async fn serves_from_the_environment_and_stops_on_sigterm() {
    let running = start(&[], &[("EASYMLSERVE_PORT", "0")]).await;
    assert!(
        running.url().starts_with("http://127.0.0.1:"),
        "not bound to loopback by default: {}",
        running.url()
    );
    let http = reqwest::Client::new();
    let answer: Value = http
        .post(format!("{}/process", running.url()))
        .json(&json!({"text": "hi ", "repeat": 3}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer, json!({"text": "hi hi hi "}));
    let defaulted: Value = http
        .post(format!("{}/process", running.url()))
        .json(&json!({"text": "once"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(defaulted, json!({"text": "once"}));
    let unknown = http
        .post(format!("{}/process", running.url()))
        .json(&json!({"text": "a", "times": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 422);
    assert_eq!(
        unknown.json::<Value>().await.unwrap()["error"],
        "`times` is not a known field"
    );
    let (status, log) = stop(running).await;
    assert!(status.success(), "echo exited with {status}");
    assert!(
        log.iter()
            .any(|l| l.contains("POST") && l.contains("/process") && l.contains("status=200")),
        "no access log: {log:#?}"
    );
}

#[tokio::test]
async fn flags_win_over_environment() {
    // The environment names a port that is taken; the flag asks for any free one. Only the flag works.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_port = taken.local_addr().unwrap().port().to_string();
    let running = start(&["--port", "0"], &[("EASYMLSERVE_PORT", &taken_port)]).await;
    assert!(!running.url().ends_with(&format!(":{taken_port}")));
    let (status, _) = stop(running).await;
    assert!(status.success());
}

#[tokio::test]
async fn api_keys_come_from_the_environment_or_a_file() {
    let dir = std::env::temp_dir().join(format!("echo-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("keys.txt");
    std::fs::write(&file, "# keys for the lab\nfile-key-1\n").unwrap();
    let running = start(
        &[],
        &[
            ("EASYMLSERVE_PORT", "0"),
            ("EASYMLSERVE_API_KEYS", "env-key-1,env-key-2"),
            ("EASYMLSERVE_API_KEYS_FILE", file.to_str().unwrap()),
        ],
    )
    .await;
    let http = reqwest::Client::new();
    let url = format!("{}/process", running.url());
    assert_eq!(
        http.post(&url)
            .json(&json!({"text": "a"}))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    for key in ["env-key-1", "env-key-2", "file-key-1"] {
        let status = http
            .post(&url)
            .header("x-api-key", key)
            .json(&json!({"text": "a"}))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200, "{key}");
    }
    let (status, log) = stop(running).await;
    assert!(status.success());
    let log = log.join("\n");
    for key in ["env-key-1", "env-key-2", "file-key-1"] {
        assert!(!log.contains(key), "{key} reached the log");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_bad_setting_fails_with_a_clear_message() {
    let output = Command::new(BIN)
        .args(["--workers", "0"])
        .env_remove("EASYMLSERVE_PORT")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`workers` must be at least 1"), "{stderr}");
    let output = Command::new(BIN).args(["--port", "eighty"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--port"));
}

/// The committed OpenAPI document is what the code generates; regenerate it on purpose with
/// `UPDATE_OPENAPI=1 cargo test -p echo`.
#[test]
fn openapi_subcommand_matches_the_committed_document() {
    let output = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(output.status.success());
    let generated: Value = serde_json::from_slice(&output.stdout).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&generated).unwrap() + "\n").unwrap();
    }
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        generated, committed,
        "the OpenAPI document changed; regenerate with UPDATE_OPENAPI=1 and review the diff"
    );
    assert_eq!(
        generated["paths"]["/process"]["post"]["requestBody"]["content"]["application/json"]["example"],
        json!({"text": "hello ", "repeat": 3})
    );
}

/// `PORT` (set by KServe and Cloud Run) is honoured below `EASYMLSERVE_PORT`; a bad one names itself.
#[tokio::test]
async fn port_variable_is_honoured_below_easymlserve_port() {
    let free = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let running = start(&[], &[("PORT", &free.to_string())]).await;
    assert_eq!(running.url(), format!("http://127.0.0.1:{free}"));
    let (status, _) = stop(running).await;
    assert!(status.success(), "{status}");

    let running = start(&[], &[("PORT", "1"), ("EASYMLSERVE_PORT", "0")]).await;
    assert!(
        !running.url().ends_with(":1"),
        "PORT won over EASYMLSERVE_PORT: {}",
        running.url()
    );
    let (status, _) = stop(running).await;
    assert!(status.success(), "{status}");

    let output = Command::new(BIN)
        .env_remove("EASYMLSERVE_PORT")
        .env("PORT", "eighty")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`PORT`") && stderr.contains("eighty"), "{stderr}");
}
