//! The `echo` binary's logs as a log collector reads them: with `--log-format json` every line it
//! prints is one JSON object, and each request's access line carries its id, route, status and
//! duration; the id is the caller's `X-Request-Id` when usable, else a new one, and comes back in the
//! response header on every answer (errors, unknown routes, the GUI, the inference protocol).

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::process::Command;
use std::time::Duration;

use easymlserve_testkit::Replica;
use reqwest::header::HeaderValue;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_echo");

/// Starts `echo` with `args` and `env` (and none of the variables this test controls from the caller's
/// shell) and waits until it is ready.
async fn start(args: &[&str], env: &[(&str, &str)]) -> Replica {
    let mut command = Command::new(BIN);
    command
        .args(["--port", "0", "--shutdown-delay-secs", "0"])
        .args(args)
        .env("NO_COLOR", "1")
        .env("EASYMLSERVE_LOG", "info");
    for var in ["EASYMLSERVE_HOST", "EASYMLSERVE_PORT", "PORT", "EASYMLSERVE_LOG_FORMAT"] {
        command.env_remove(var);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    Replica::start(command, Duration::from_secs(60)).await
}

/// Stops it with SIGTERM (it must exit 0) and returns every line it printed.
async fn stop(mut running: Replica) -> Vec<String> {
    let status = running.terminate(Duration::from_secs(30)).await;
    assert!(status.success(), "echo exited with {status}");
    running.log()
}

/// One request the test sends and what its access line must say.
struct Case {
    method: reqwest::Method,
    path: &'static str,
    /// The `X-Request-Id` sent, as raw bytes; `None` sends none.
    id: Option<Vec<u8>>,
    key: bool,
    body: Option<Value>,
    status: u16,
    route: &'static str,
}

fn is_generated(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test]
async fn json_logs_carry_each_requests_id_route_status_and_duration() {
    let running = start(
        &["--log-format", "json", "--body-limit", "256"],
        &[("EASYMLSERVE_API_KEYS", "the-key")],
    )
    .await;
    let http = reqwest::Client::new();
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;
    let cases = [
        Case {
            method: post.clone(),
            path: "/process",
            id: Some(b"caller-id-1".to_vec()),
            key: true,
            body: Some(json!({"text": "hi"})),
            status: 200,
            route: "/process",
        },
        Case {
            method: post.clone(),
            path: "/process",
            id: None,
            key: true,
            body: Some(json!({"text": "no id"})),
            status: 200,
            route: "/process",
        },
        Case {
            method: post.clone(),
            path: "/process",
            id: Some(vec![b'x'; 200]),
            key: true,
            body: Some(json!({"text": "too long"})),
            status: 200,
            route: "/process",
        },
        Case {
            method: post.clone(),
            path: "/process",
            id: Some("café-1".as_bytes().to_vec()),
            key: true,
            body: Some(json!({"text": "not ascii"})),
            status: 200,
            route: "/process",
        },
        Case {
            method: post.clone(),
            path: "/process",
            id: Some(b"no-key-1".to_vec()),
            key: false,
            body: Some(json!({"text": "a"})),
            status: 401,
            route: "/process",
        },
        Case {
            method: post.clone(),
            path: "/process",
            id: Some(b"too-big-1".to_vec()),
            key: true,
            body: Some(json!({"text": "y".repeat(1000)})),
            status: 413,
            route: "/process",
        },
        Case {
            method: get.clone(),
            path: "/no/such/route",
            id: Some(b"missing-1".to_vec()),
            key: false,
            body: None,
            status: 404,
            route: "unmatched",
        },
        Case {
            method: get.clone(),
            path: "/ui/",
            id: Some(b"gui-1".to_vec()),
            key: false,
            body: None,
            status: 200,
            route: "/ui/",
        },
        Case {
            method: get.clone(),
            path: "/v2/health/ready",
            id: Some(b"v2-1".to_vec()),
            key: false,
            body: None,
            status: 200,
            route: "/v2/health/ready",
        },
    ];
    let mut ids = Vec::new();
    for case in &cases {
        let mut request = http.request(case.method.clone(), format!("{}{}", running.url(), case.path));
        if let Some(id) = &case.id {
            request = request.header("x-request-id", HeaderValue::from_bytes(id).unwrap());
        }
        if case.key {
            request = request.header("x-api-key", "the-key");
        }
        if let Some(body) = &case.body {
            request = request.json(body);
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), case.status, "{} {}", case.method, case.path);
        let header = answer
            .headers()
            .get("x-request-id")
            .unwrap_or_else(|| panic!("no X-Request-Id on {} {}", case.method, case.path))
            .to_str()
            .unwrap()
            .to_owned();
        let given = case.id.as_deref().map(|id| String::from_utf8_lossy(id).into_owned());
        match given {
            Some(given) if given.is_ascii() && given.len() <= 128 => assert_eq!(header, given),
            _ => assert!(is_generated(&header), "a generated id, not `{header}`"),
        }
        ids.push(header);
    }
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "every request has its own id: {ids:?}");

    let lines = stop(running).await;
    let logged: Vec<Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")))
        .collect();
    assert!(
        logged
            .iter()
            .any(|l| l["message"].as_str().is_some_and(|m| m.starts_with("listening on")))
    );
    for (case, id) in cases.iter().zip(&ids) {
        let access: Vec<&Value> = logged
            .iter()
            .filter(|l| l["target"] == "easymlserve::access" && l["request_id"] == id.as_str())
            .collect();
        assert_eq!(access.len(), 1, "one access line for {id}: {lines:#?}");
        let line = access[0];
        assert_eq!(line["level"], "INFO", "{line}");
        assert!(line["timestamp"].is_string(), "{line}");
        assert_eq!(line["method"], case.method.as_str(), "{line}");
        assert_eq!(line["route"], case.route, "{line}");
        assert_eq!(line["path"], case.path, "{line}");
        assert_eq!(line["status"], case.status, "{line}");
        assert!(line["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{line}");
    }
}

#[tokio::test]
async fn text_logs_keep_the_readable_format() {
    let running = start(&[], &[]).await;
    let http = reqwest::Client::new();
    let answer = http
        .post(format!("{}/process", running.url()))
        .header("x-request-id", "text-1")
        .json(&json!({"text": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["x-request-id"], "text-1");
    let lines = stop(running).await;
    let access = lines
        .iter()
        .find(|line| line.contains("request_id=text-1"))
        .unwrap_or_else(|| panic!("no access line: {lines:#?}"));
    assert!(
        access.contains(
            " INFO request request_id=text-1 method=POST route=/process path=/process status=200 duration_ms="
        ),
        "{access}"
    );
}

#[test]
fn a_bad_log_format_names_the_flag() {
    let output = Command::new(BIN).args(["--log-format", "xml"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--log-format") && stderr.contains("xml"), "{stderr}");
    let output = Command::new(BIN)
        .env("EASYMLSERVE_LOG_FORMAT", "yaml")
        .env("EASYMLSERVE_PORT", "0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--log-format"));
}
