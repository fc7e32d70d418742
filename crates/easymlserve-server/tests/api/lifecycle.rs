//! Model loading and readiness, failed loads, and graceful shutdown (in process, and by SIGTERM to a
//! real child process).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use easymlserve_core::{Context, Service, ServiceError};
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
const TIMEOUT_ENV: &str = "EASYMLSERVE_TEST_SIGTERM_TIMEOUT";
pub(crate) const CHILD_KEY: &str = "child-secret-key-7f3a";

/// A test service that prints a line when it starts processing, so the parent knows the request is in
/// flight; it sleeps `sleep_ms` in short steps and stops early when the request is canceled.
struct Announcing;

impl Service for Announcing {
    type Request = TestRequest;
    type Response = TestResponse;

    fn process(&self, request: TestRequest) -> Result<TestResponse, ServiceError> {
        self.process_with(request, &Context::detached())
    }

    fn process_with(&self, request: TestRequest, ctx: &Context) -> Result<TestResponse, ServiceError> {
        println!("PROCESSING {}", request.text);
        let _ = std::io::stdout().flush();
        let until = Instant::now() + Duration::from_millis(request.sleep_ms);
        while Instant::now() < until {
            if ctx.is_cancelled() {
                return Err(ServiceError::Cancelled);
            }
            std::thread::sleep(Duration::from_millis(10).min(until.saturating_duration_since(Instant::now())));
        }
        Ok(TestResponse { text: request.text })
    }
}

/// Not a test: the server process that [`SigtermChild`] starts and signals.
#[test]
#[ignore = "child process of the SIGTERM tests"]
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
        let seconds = |name: &str, default: f64| std::env::var(name).map_or(default, |v| v.parse::<f64>().unwrap());
        let config = ServerConfig {
            api_keys: ApiKeys::parse_list(CHILD_KEY),
            shutdown_delay: Duration::from_secs_f64(seconds(DELAY_ENV, 0.0)),
            shutdown_timeout: Duration::from_secs_f64(seconds(TIMEOUT_ENV, 30.0)),
            ..config()
        };
        Server::new(Announcing).config(config).serve(listener).await.unwrap();
    });
    println!("EXITED CLEANLY");
}

/// A server in a child process (this test binary running [`sigterm_child`]) that a test signals: its
/// output lines, read as they come, and its address. Dropped without [`SigtermChild::exits_cleanly`]
/// (a failed assertion), it kills and reaps the child, so no server outlives its test.
pub(crate) struct SigtermChild {
    /// `None` once [`SigtermChild::exits_cleanly`] has reaped it.
    child: Option<Child>,
    lines: Receiver<String>,
    log: Vec<String>,
    pub url: String,
    pub http: reqwest::Client,
}

impl SigtermChild {
    /// Starts the child with a drain delay and shutdown timeout (seconds) and waits until it is ready.
    pub async fn start(delay_secs: f64, timeout_secs: f64) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "lifecycle::sigterm_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, "1")
            .env(DELAY_ENV, delay_secs.to_string())
            .env(TIMEOUT_ENV, timeout_secs.to_string())
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
        let mut this = Self {
            child: Some(child),
            lines,
            log: Vec::new(),
            url: String::new(),
            http: reqwest::Client::new(),
        };
        let port = this.wait_for("PORT ");
        this.url = format!("http://127.0.0.1:{port}");
        for _ in 0..3000 {
            if this
                .http
                .get(format!("{}/health/ready", this.url))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        this
    }

    /// Reads output lines until one contains `prefix`; returns what follows it on that line.
    pub fn wait_for(&mut self, prefix: &str) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no `{prefix}` line; got {:#?}", self.log));
            self.log.push(line.clone());
            if let Some(index) = line.find(prefix) {
                return line[index + prefix.len()..].trim().to_owned();
            }
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("the child is running").id()
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
    }

    /// Waits for the clean exit line and the process's exit, asserts it is 0, and returns the whole log.
    pub async fn exits_cleanly(mut self) -> String {
        self.wait_for("EXITED CLEANLY");
        let mut child = self.child.take().expect("the child is running");
        let exit = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        assert!(exit.success(), "the server exited with {exit}");
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.log.push(line);
        }
        self.log.join("\n")
    }
}

impl Drop for SigtermChild {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_requests_finish() {
    let mut child = SigtermChild::start(0.0, 30.0).await;
    let in_flight = tokio::spawn({
        let (http, url) = (child.http.clone(), child.url.clone());
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
    child.wait_for("PROCESSING");
    child.sigterm();
    let (status, body) = in_flight.await.unwrap();
    assert_eq!((status, body), (200, json!({"text": "finish me"})));
    let (http, url) = (child.http.clone(), child.url.clone());
    let log = child.exits_cleanly().await;
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
/// are still served for the delay; then the listener closes while the slow request is still in flight
/// (new connections are refused, the log counts it in flight), it still completes, and the process
/// exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_readiness_first_then_closes() {
    let mut child = SigtermChild::start(2.0, 30.0).await;
    let (http, url) = (child.http.clone(), child.url.clone());
    let slow = tokio::spawn({
        let (http, url) = (http.clone(), url.clone());
        async move {
            let response = http
                .post(format!("{url}/process"))
                .bearer_auth(CHILD_KEY)
                .json(&json!({"text": "slow", "sleep_ms": 7000}))
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.json::<Value>().await.unwrap())
        }
    });
    child.wait_for("PROCESSING slow");
    child.sigterm();
    child.wait_for("shutting down: draining");
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
    child.wait_for("listener closed");
    let line = child.log.last().unwrap().clone();
    assert!(
        line.contains("in_flight=1"),
        "the slow request is the one in flight: {line}"
    );
    // The listener closes as that line is written: new connections are refused from then on, while the
    // slow request (about 5 s more) is still being answered.
    let port = url.rsplit(':').next().unwrap().parse::<u16>().unwrap();
    let closing = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
        assert!(
            closing.elapsed() < Duration::from_secs(3),
            "still accepting after `{line}`"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!slow.is_finished(), "the slow request ended before the listener closed");
    let (status, body) = slow.await.unwrap();
    assert_eq!((status, body), (200, json!({"text": "slow"})));
    let log = child.exits_cleanly().await;
    assert!(log.contains("server stopped"), "{log}");
}
