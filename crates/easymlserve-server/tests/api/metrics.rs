//! `/metrics` under hostile clients: a client that hangs up mid-request leaves no phantom in-flight
//! request behind, and made-up HTTP methods cannot grow the exposition.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::util::{TestServer, TestService, config};

/// The `/metrics` text.
async fn metrics(server: &TestServer) -> String {
    server.get("/metrics").await.text().await.unwrap()
}

/// Polls `/metrics` until it has the sample line `line`, for at most `within`.
async fn wait_for_line(server: &TestServer, line: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let text = metrics(server).await;
        if text.lines().any(|l| l == line) {
            return text;
        }
        assert!(Instant::now() < deadline, "no `{line}` within {within:?}:\n{text}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_client_that_hangs_up_mid_request_leaves_the_in_flight_gauge() {
    const MODEL_MS: u64 = 3000;
    let service = TestService::default();
    let calls = Arc::clone(&service.calls);
    let server = TestServer::start(service, config()).await;
    let addr = server.url.trim_start_matches("http://").to_owned();
    let body = json!({"text": "slow", "sleep_ms": MODEL_MS}).to_string();
    let mut client = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /process HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    client.write_all(head.as_bytes()).await.unwrap();
    client.write_all(body.as_bytes()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while calls.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the model never got the request");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    wait_for_line(&server, "easymlserve_in_flight_requests 2", Duration::from_secs(1)).await;

    drop(client);
    let hung_up = Instant::now();
    // Well before the model answers: only the hang-up can have ended the request.
    let text = wait_for_line(
        &server,
        "easymlserve_in_flight_requests 1",
        Duration::from_millis(MODEL_MS / 2),
    )
    .await;
    assert!(hung_up.elapsed() < Duration::from_millis(MODEL_MS / 2), "{text}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn made_up_methods_share_the_other_label() {
    let server = TestServer::start(TestService::default(), config()).await;
    for i in 1..=50 {
        let method = reqwest::Method::from_bytes(format!("FOO{i}").as_bytes()).unwrap();
        let path = if i % 2 == 0 { "/process" } else { "/no-such-route" };
        let answer = server
            .http
            .request(method, format!("{}{path}", server.url))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_client_error(), "FOO{i} {path}: {}", answer.status());
    }
    let text = metrics(&server).await;
    assert!(!text.contains("FOO"), "a made-up method became a label value:\n{text}");
    let other: u64 = text
        .lines()
        .filter(|line| line.starts_with("easymlserve_requests_total{method=\"other\","))
        .map(|line| line.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(other, 50, "{text}");
    let series = text
        .lines()
        .filter(|line| line.starts_with("easymlserve_requests_total{"))
        .count();
    assert!(series <= 4, "50 methods, {series} series:\n{text}");
}

#[tokio::test]
async fn metrics_are_served_as_openmetrics() {
    let server = TestServer::start(TestService::default(), config()).await;
    let answer = server.get("/metrics").await;
    assert_eq!(
        answer.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let text = answer.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    assert!(
        text.lines().any(|l| l == "easymlserve_abandoned_busy_workers 0"),
        "{text}"
    );
}
