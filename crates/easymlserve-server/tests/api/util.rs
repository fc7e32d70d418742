//! Test helpers: a test service with knobs for every failure mode, and a server on a free port.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use easymlserve_core::schemars::JsonSchema;
use easymlserve_core::{Service, ServiceError, ServiceInfo};
use easymlserve_server::{Server, ServerConfig};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How the test model should behave on a request.
#[derive(Debug, Default, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Answer normally.
    #[default]
    Normal,
    /// Return `ServiceError::Failed` with a secret detail.
    Fail,
    /// Panic.
    Panic,
    /// Refuse the input with `ServiceError::invalid_field`.
    Refuse,
}

/// Nested options, to check field paths.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Options {
    /// A scale between 0 and 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    #[expect(dead_code, reason = "only validated, to check nested field paths")]
    pub scale: f64,
}

/// The test request.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct TestRequest {
    pub text: String,
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 10))]
    pub repeat: u32,
    #[serde(default)]
    pub sleep_ms: u64,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default)]
    #[expect(dead_code, reason = "only validated, to check nested field paths")]
    pub options: Option<Options>,
    #[serde(default)]
    #[schemars(length(max = 3))]
    #[expect(dead_code, reason = "only validated, to check array item paths")]
    pub tags: Vec<String>,
}

fn one() -> u32 {
    1
}

/// The test response.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct TestResponse {
    pub text: String,
}

/// Detail text a failing model reports; it must reach the log, never the client.
pub const SECRET_DETAIL: &str = "weights.bin checksum 0xdeadbeef mismatch at /srv/models";

/// A model with knobs: sleeps, fails, panics or refuses on request. Counts `process` calls.
#[derive(Default)]
pub struct TestService {
    pub calls: std::sync::Arc<AtomicUsize>,
}

impl Service for TestService {
    type Request = TestRequest;
    type Response = TestResponse;

    fn info(&self) -> ServiceInfo {
        ServiceInfo::new("test service")
            .version("9.9.9")
            .description("Echo with knobs for failure modes.")
    }

    fn process(&self, request: TestRequest) -> Result<TestResponse, ServiceError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if request.sleep_ms > 0 {
            std::thread::sleep(Duration::from_millis(request.sleep_ms));
        }
        match request.mode {
            Mode::Normal => Ok(TestResponse {
                text: request.text.repeat(request.repeat as usize),
            }),
            Mode::Fail => Err(ServiceError::failed(SECRET_DETAIL)),
            Mode::Panic => panic!("the test model panicked on purpose"),
            Mode::Refuse => Err(ServiceError::invalid_field("text", "this model only reads English")),
        }
    }
}

/// A server running in this test's runtime.
pub struct TestServer {
    pub url: String,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), easymlserve_server::ServerError>>>,
}

impl TestServer {
    /// Starts `service` with `config` on 127.0.0.1:0 and waits until it is ready.
    pub async fn start<S: Service>(service: S, config: ServerConfig) -> Self {
        let server = Self::start_unready(service, config).await;
        server.wait_ready().await;
        server
    }

    /// Starts `service` without waiting for readiness.
    pub async fn start_unready<S: Service>(service: S, config: ServerConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().expect("local addr"));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = Server::new(service).config(config);
        let handle = tokio::spawn(server.serve_with_shutdown(listener, async {
            let _ = stopped.await;
        }));
        Self {
            url,
            http: reqwest::Client::new(),
            stop: Some(stop),
            handle: Some(handle),
        }
    }

    /// A handle on a server the test serves itself (its state kept, e.g. to drain its jobs).
    pub fn attach(url: String) -> Self {
        Self {
            url,
            http: reqwest::Client::new(),
            stop: None,
            handle: None,
        }
    }

    pub async fn wait_ready(&self) {
        for _ in 0..500 {
            if let Ok(r) = self.http.get(format!("{}/health/ready", self.url)).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("server at {} did not become ready", self.url);
    }

    /// `POST /process` with a JSON body.
    pub async fn process(&self, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(format!("{}/process", self.url))
            .json(&body)
            .send()
            .await
            .expect("send /process")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("send GET")
    }

    /// Stops the server and waits until it has finished.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.expect("server task").expect("server result");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A config for tests: small pool, short timeout.
pub fn config() -> ServerConfig {
    ServerConfig {
        workers: 2,
        queue_capacity: 16,
        timeout: Duration::from_secs(10),
        shutdown_delay: Duration::ZERO,
        ..ServerConfig::default()
    }
}

/// Reads a JSON error body and checks its shape: `error` and `error_type` strings.
pub async fn error_body(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("error body is JSON");
    assert!(body["error"].is_string(), "no `error` string in {body}");
    assert!(body["error_type"].is_string(), "no `error_type` string in {body}");
    (status, body)
}

/// Sends raw bytes to `addr` (host:port) and returns the status code of the answer.
pub fn raw_status(addr: &str, head: &str, body_chunks: impl Iterator<Item = Vec<u8>> + Send + 'static) -> u16 {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("read timeout");
    stream.write_all(head.as_bytes()).expect("write head");
    let mut writer = stream.try_clone().expect("clone stream");
    let feeder = std::thread::spawn(move || {
        for chunk in body_chunks {
            if writer.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let _ = feeder.join();
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}

/// Sends `rounds` panicking requests, each followed by a normal one: every panic is a 500 `model_panic`,
/// every normal request gets its answer, and `/metrics` counts the panics.
pub async fn assert_panics_fail_alone(server: &TestServer, rounds: usize) {
    for round in 0..rounds {
        let (status, body) = error_body(server.process(serde_json::json!({"text": "a", "mode": "panic"})).await).await;
        assert_eq!(
            (status, body["error_type"].as_str()),
            (500, Some("model_panic")),
            "round {round}"
        );
        let ok = server.process(serde_json::json!({"text": "ok", "repeat": 2})).await;
        assert_eq!(ok.status(), 200, "round {round}");
        assert_eq!(
            ok.json::<serde_json::Value>().await.unwrap(),
            serde_json::json!({"text": "okok"})
        );
    }
    let metrics = server.get("/metrics").await.text().await.unwrap();
    let line = format!("easymlserve_model_failures_total{{kind=\"panic\"}} {rounds}\n");
    assert!(metrics.contains(&line), "{metrics}");
}
