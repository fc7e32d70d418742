//! Model loading and readiness, failed loads, and graceful shutdown (in process, and by SIGTERM to a
//! real child process).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use easymlserve_core::{Service, ServiceError};
use easymlserve_server::{ApiKeys, Server, ServerConfig};
use serde_json::{Value, json};

use crate::util::{TestRequest, TestResponse, TestServer, TestService, config, error_body};

/// A service whose `load_model` waits for a signal, or fails, or panics.
enum Loader {
    WaitFor(Mutex<Receiver<()>>),
    Fail,
    Panic,
}

impl Service for Loader {
    type Request = TestRequest;
    type Response = TestResponse;

    fn load_model(&mut self) -> Result<(), ServiceError> {
        match self {
            Self::WaitFor(rx) => {
                let _ = rx.get_mut().unwrap().recv();
                Ok(())
            }
            Self::Fail => Err(ServiceError::failed("weights file `model.bin` not found")),
            Self::Panic => panic!("weights are corrupt"),
        }
    }

    fn process(&self, request: TestRequest) -> Result<TestResponse, ServiceError> {
        Ok(TestResponse { text: request.text })
    }
}

#[tokio::test]
async fn not_ready_until_the_model_is_loaded() {
    let (release, rx) = channel();
    let server = TestServer::start_unready(Loader::WaitFor(Mutex::new(rx)), config()).await;
    assert_eq!(server.get("/health/live").await.status(), 200);
    let ready = server.get("/health/ready").await;
    assert_eq!(ready.headers()["retry-after"], "5");
    let (status, body) = error_body(ready).await;
    assert_eq!((status, body["status"].as_str()), (503, Some("loading")));
    let (status, body) = error_body(server.process(json!({"text": "early"})).await).await;
    assert_eq!((status, body["error_type"].as_str()), (503, Some("not_ready")));
    release.send(()).unwrap();
    server.wait_ready().await;
    assert_eq!(server.process(json!({"text": "late"})).await.status(), 200);
}

#[tokio::test]
async fn a_failing_load_keeps_the_process_up_and_not_ready() {
    for (loader, reason) in [
        (Loader::Fail, "weights file `model.bin` not found"),
        (Loader::Panic, "weights are corrupt"),
    ] {
        let server = TestServer::start_unready(loader, config()).await;
        let mut body = Value::Null;
        for _ in 0..200 {
            let (status, b) = error_body(server.get("/health/ready").await).await;
            assert_eq!(status, 503);
            body = b;
            if body["status"] == "failed" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(body["status"], "failed");
        assert!(body["error"].as_str().unwrap().contains(reason), "{body}");
        assert_eq!(server.get("/health/live").await.status(), 200);
        let (status, _) = error_body(server.process(json!({"text": "a"})).await).await;
        assert_eq!(status, 503);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_in_flight_requests() {
    let service = TestService::default();
    let calls = service.calls.clone();
    let server = TestServer::start(service, config()).await;
    let url = server.url.clone();
    let slow = tokio::spawn(async move {
        let response = reqwest::Client::new()
            .post(format!("{url}/process"))
            .json(&json!({"text": "late", "sleep_ms": 800}))
            .send()
            .await
            .unwrap();
        (response.status(), response.json::<Value>().await.unwrap())
    });
    while calls.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let url = server.url.clone();
    server.stop().await;
    let (status, body) = slow.await.unwrap();
    assert_eq!((status.as_u16(), body), (200, json!({"text": "late"})));
    assert!(
        reqwest::get(format!("{url}/health/live")).await.is_err(),
        "the server still accepts connections"
    );
}

const CHILD_ENV: &str = "EASYMLSERVE_TEST_SIGTERM_CHILD";
const DELAY_ENV: &str = "EASYMLSERVE_TEST_SIGTERM_DELAY";
const CHILD_KEY: &str = "child-secret-key-7f3a";

/// A test service that prints a line when it starts processing, so the parent knows the request is in flight.
struct Announcing;

impl Service for Announcing {
    type Request = TestRequest;
    type Response = TestResponse;

    fn process(&self, request: TestRequest) -> Result<TestResponse, ServiceError> {
        println!("PROCESSING {}", request.text);
        let _ = std::io::stdout().flush();
        std::thread::sleep(Duration::from_millis(request.sleep_ms));
        Ok(TestResponse { text: request.text })
    }
}

/// Not a test: the server process that `sigterm_lets_in_flight_requests_finish` starts and signals.
#[test]
#[ignore = "child process of sigterm_lets_in_flight_requests_finish"]
fn sigterm_child() {
    if std::env::var(CHILD_ENV).is_err() {
        return;
    }
    easymlserve_server::logging::init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("PORT {}", listener.local_addr().unwrap().port());
        let _ = std::io::stdout().flush();
        let delay = std::env::var(DELAY_ENV).map_or(0.0, |v| v.parse::<f64>().unwrap());
        let config = ServerConfig {
            api_keys: ApiKeys::parse_list(CHILD_KEY),
            shutdown_delay: Duration::from_secs_f64(delay),
            ..config()
        };
        Server::new(Announcing).config(config).serve(listener).await.unwrap();
    });
    println!("EXITED CLEANLY");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_requests_finish() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "lifecycle::sigterm_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut log = Vec::new();
    let wait_for = |prefix: &str, log: &mut Vec<String>| -> String {
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no `{prefix}` line; got {log:#?}"));
            log.push(line.clone());
            if let Some(index) = line.find(prefix) {
                return line[index + prefix.len()..].trim().to_owned();
            }
        }
    };
    let port = wait_for("PORT ", &mut log);
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..500 {
        if http
            .get(format!("{url}/health/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let in_flight = tokio::spawn({
        let (http, url) = (http.clone(), url.clone());
        async move {
            let response = http
                .post(format!("{url}/process"))
                .bearer_auth(CHILD_KEY)
                .json(&json!({"text": "finish me", "sleep_ms": 1000}))
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    });
    wait_for("PROCESSING", &mut log);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let (status, body) = in_flight.await.unwrap();
    assert_eq!((status, body), (200, json!({"text": "finish me"})));
    wait_for("EXITED CLEANLY", &mut log);
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "the server exited with {exit}");
    while let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
        log.push(line);
    }
    let log = log.join("\n");
    assert!(log.contains("shutting down"), "{log}");
    assert!(
        log.contains("POST") && log.contains("/process") && log.contains("200"),
        "no access log line: {log}"
    );
    assert!(!log.contains(CHILD_KEY), "the API key reached the log: {log}");
    assert!(
        http.get(format!("{url}/health/live")).send().await.is_err(),
        "the server still accepts connections"
    );
}

/// The drain a load balancer follows: after SIGTERM readiness is 503 (liveness 200) while new requests
/// are still served for the delay, the slow request in flight completes, then connections are refused
/// and the process exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_readiness_first_then_closes() {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "lifecycle::sigterm_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .env(DELAY_ENV, "2")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let mut log = Vec::new();
    let wait_for = |prefix: &str, log: &mut Vec<String>| -> String {
        loop {
            let line = lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no `{prefix}` line; got {log:#?}"));
            log.push(line.clone());
            if let Some(index) = line.find(prefix) {
                return line[index + prefix.len()..].trim().to_owned();
            }
        }
    };
    let port = wait_for("PORT ", &mut log);
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..3000 {
        if http
            .get(format!("{url}/health/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let slow = tokio::spawn({
        let (http, url) = (http.clone(), url.clone());
        async move {
            let response = http
                .post(format!("{url}/process"))
                .bearer_auth(CHILD_KEY)
                .json(&json!({"text": "slow", "sleep_ms": 3000}))
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    });
    wait_for("PROCESSING slow", &mut log);
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    wait_for("shutting down: draining", &mut log);
    // During the delay: readiness 503 (both protocols), liveness 200, new work served.
    let ready = http.get(format!("{url}/health/ready")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "draining");
    let ready_v2 = http.get(format!("{url}/v2/health/ready")).send().await.unwrap();
    assert_eq!(ready_v2.status(), 503);
    assert_eq!(
        http.get(format!("{url}/health/live")).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        http.get(format!("{url}/v2/health/live")).send().await.unwrap().status(),
        200
    );
    let fresh = http
        .post(format!("{url}/process"))
        .bearer_auth(CHILD_KEY)
        .json(&json!({"text": "during the delay", "sleep_ms": 0}))
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200, "a request during the drain delay was not served");
    let listener_closed = wait_for("listener closed", &mut log);
    assert!(listener_closed.contains("in_flight"), "{listener_closed}");
    let (status, body) = slow.await.unwrap();
    assert_eq!((status, body), (200, json!({"text": "slow"})));
    wait_for("EXITED CLEANLY", &mut log);
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(exit.success(), "the server exited with {exit}");
    let fresh_client = reqwest::Client::new();
    assert!(
        fresh_client.get(format!("{url}/health/live")).send().await.is_err(),
        "the server still accepts connections"
    );
    while let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) {
        log.push(line);
    }
    let log = log.join("\n");
    assert!(log.contains("server stopped"), "{log}");
}
