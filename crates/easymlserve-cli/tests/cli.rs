//! The `easymlserve` command against a real server on 127.0.0.1:0.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::process::{Command, Output};
use std::time::Duration;

use easymlserve::prelude::*;
use easymlserve::serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_easymlserve");

#[derive(Deserialize, JsonSchema)]
struct Request {
    #[schemars(range(min = 0, max = 100))]
    x: i64,
}

#[derive(Serialize, JsonSchema)]
struct Response {
    square: i64,
}

struct Square;

impl Service for Square {
    type Request = Request;
    type Response = Response;
    fn process(&self, request: Request) -> Result<Response, ServiceError> {
        Ok(Response {
            square: request.x * request.x,
        })
    }
}

/// Runs the server until the returned sender is dropped; returns its URL.
async fn serve() -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(Server::new(Square).serve_with_shutdown(listener, async {
        let _ = stopped.await;
    }));
    let client = Client::new(url.clone()).unwrap();
    while client.ready().await.is_err() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (url, stop)
}

async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .args(args)
            .env_remove("EASYMLSERVE_API_KEY")
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_prints_the_answer_from_inline_json_or_a_file() {
    let (url, _stop) = serve().await;
    let output = run(vec![
        "call".into(),
        "--url".into(),
        url.clone(),
        "--data".into(),
        r#"{"x": 12}"#.into(),
    ])
    .await;
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer, json!({"square": 144}));

    let file = std::env::temp_dir().join(format!("easymlserve-cli-{}.json", std::process::id()));
    std::fs::write(&file, r#"{"x": 7}"#).unwrap();
    let output = run(vec![
        "call".into(),
        "--url".into(),
        url,
        "--data".into(),
        format!("@{}", file.display()),
    ])
    .await;
    std::fs::remove_file(&file).unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&output.stdout).unwrap(),
        json!({"square": 49})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_fails_with_the_servers_error() {
    let (url, _stop) = serve().await;
    let output = run(vec![
        "call".into(),
        "--url".into(),
        url,
        "--data".into(),
        r#"{"x": 1000}"#.into(),
    ])
    .await;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("422") && stderr.contains("`x` must be at most 100, got 1000"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_reports_an_unreachable_service_and_bad_input() {
    let output = run(vec![
        "call".into(),
        "--url".into(),
        "http://127.0.0.1:9".into(),
        "--data".into(),
        "{}".into(),
    ])
    .await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("could not reach the service"));
    let output = run(vec!["call".into(), "--data".into(), "{not json".into()]).await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not valid JSON"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_prints_the_services_document() {
    let (url, _stop) = serve().await;
    let output = run(vec!["openapi".into(), "--url".into(), url]).await;
    assert!(output.status.success());
    let doc: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/process"]["post"].is_object());
}
