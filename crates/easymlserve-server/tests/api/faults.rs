//! Fault and load: a model that panics on 1% of requests and overruns the timeout on another 1%, driven
//! at concurrency 64 in a separate server process. Every other request gets its own correct answer,
//! the faulty ones get 500 or 504, the process's memory settles back, it stays ready, and SIGTERM
//! under load answers every accepted request before exiting 0.
//!
//! The request count is `EASYMLSERVE_FAULT_REQUESTS` (2,000 by default; RELIABILITY.md has the long run).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use easymlserve_core::{Service, ServiceError};
use easymlserve_server::{Server, ServerConfig};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Semaphore;

const CHILD_ENV: &str = "EASYMLSERVE_TEST_FAULT_CHILD";
/// The model's timeout in the child.
const TIMEOUT_MS: u64 = 1_000;
/// How long an overrunning request keeps its worker: past the timeout.
const OVERRUN_MS: u64 = 1_500;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct FaultRequest {
    id: u64,
    /// Milliseconds of work for well-behaved requests.
    #[serde(default)]
    work_ms: u64,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, schemars::JsonSchema)]
struct FaultResponse {
    id: u64,
    double: u64,
    /// Some bulk, so a leak per request would show in the memory figures.
    padding: String,
}

/// Panics when `id % 100 == 37`, sleeps past the timeout when `id % 100 == 73`.
struct Faulty;

impl Service for Faulty {
    type Request = FaultRequest;
    type Response = FaultResponse;

    fn process(&self, request: FaultRequest) -> Result<FaultResponse, ServiceError> {
        match request.id % 100 {
            37 => panic!("injected panic for request {}", request.id),
            73 => std::thread::sleep(Duration::from_millis(OVERRUN_MS)),
            _ => std::thread::sleep(Duration::from_millis(request.work_ms)),
        }
        Ok(FaultResponse {
            id: request.id,
            double: request.id * 2,
            padding: "x".repeat(16 * 1024),
        })
    }
}

/// The server process of these tests; does nothing unless started by them.
#[test]
#[ignore = "started as a child process by the fault tests"]
fn fault_child() {
    if std::env::var(CHILD_ENV).is_err() {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!("PORT {}", listener.local_addr().unwrap().port());
        let _ = std::io::stdout().flush();
        // The timeout counts from arrival, so a worker stuck in an overrun must not make the requests
        // queued behind it late: more workers than the load's concurrency (they mostly sleep).
        let config = ServerConfig {
            workers: 96,
            queue_capacity: 256,
            timeout: Duration::from_millis(TIMEOUT_MS),
            ..ServerConfig::default()
        };
        Server::new(Faulty).config(config).serve(listener).await.unwrap();
    });
    println!("EXITED CLEANLY");
}

/// A running child server and its stdout lines.
struct ChildServer {
    child: Child,
    lines: Receiver<String>,
    url: String,
    http: reqwest::Client,
}

impl ChildServer {
    async fn start() -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "faults::fault_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, "1")
            .env("EASYMLSERVE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, lines) = channel::<String>();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut server = Self {
            child,
            lines,
            url: String::new(),
            http: reqwest::Client::new(),
        };
        let port = server.wait_for("PORT ");
        server.url = format!("http://127.0.0.1:{port}");
        for _ in 0..1000 {
            if server.status("/health/ready").await == 200 {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the child server did not become ready");
    }

    fn wait_for(&self, prefix: &str) -> String {
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("no `{prefix}` line from the child"));
            if let Some(rest) = line.split_once(prefix).map(|(_, rest)| rest.trim().to_owned()) {
                return rest;
            }
        }
    }

    async fn status(&self, path: &str) -> u16 {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .map_or(0, |r| r.status().as_u16())
    }

    /// Resident memory of the child in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What came back for one request: the status, the error type, and the body when it was 200.
type Outcome = (u16, Option<String>, Option<FaultResponse>);

/// Sends requests `ids` with at most `concurrency` in flight; returns the outcomes by id.
async fn drive(
    http: &reqwest::Client,
    base_url: &str,
    ids: impl Iterator<Item = u64>,
    concurrency: usize,
    work_ms: u64,
) -> Vec<(u64, Outcome)> {
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = Vec::new();
    for id in ids {
        let permit = Arc::clone(&permits).acquire_owned().await.unwrap();
        let (http, url) = (http.clone(), format!("{base_url}/process"));
        tasks.push(tokio::spawn(async move {
            let answer = http.post(url).json(&json!({"id": id, "work_ms": work_ms})).send().await;
            drop(permit);
            let Ok(answer) = answer else {
                return (id, (0, Some("connection failed".to_owned()), None));
            };
            let status = answer.status().as_u16();
            let body: serde_json::Value = answer.json().await.unwrap_or_default();
            let outcome = if status == 200 {
                (status, None, serde_json::from_value(body).ok())
            } else {
                (status, body["error_type"].as_str().map(str::to_owned), None)
            };
            (id, outcome)
        }));
    }
    let mut outcomes = Vec::with_capacity(tasks.len());
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    outcomes
}

/// Checks every outcome against what the injected faults should give; returns (ok, panics, timeouts).
fn check(outcomes: &[(u64, Outcome)]) -> (usize, usize, usize) {
    let (mut ok, mut panics, mut timeouts) = (0, 0, 0);
    for (id, (status, error_type, body)) in outcomes {
        match id % 100 {
            37 => {
                assert_eq!(
                    (*status, error_type.as_deref()),
                    (500, Some("model_panic")),
                    "request {id}"
                );
                panics += 1;
            }
            73 => {
                assert_eq!((*status, error_type.as_deref()), (504, Some("timeout")), "request {id}");
                timeouts += 1;
            }
            _ => {
                assert_eq!(*status, 200, "request {id}: {error_type:?}");
                let body = body.as_ref().unwrap_or_else(|| panic!("request {id}: no body"));
                assert_eq!(
                    (body.id, body.double),
                    (*id, id * 2),
                    "request {id} got another's answer"
                );
                ok += 1;
            }
        }
    }
    (ok, panics, timeouts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_panics_and_overruns_fail_only_their_requests_and_memory_settles() {
    let count: u64 = std::env::var("EASYMLSERVE_FAULT_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    let server = ChildServer::start().await;
    // Warm up at the same concurrency so allocator pools and connection buffers exist before the baseline.
    check(&drive(&server.http, &server.url, 0..300, 64, 0).await);
    tokio::time::sleep(Duration::from_millis(OVERRUN_MS + 200)).await;
    let baseline = server.rss_kib();
    let outcomes = drive(&server.http, &server.url, 1_000..1_000 + count, 64, 0).await;
    let (ok, panics, timeouts) = check(&outcomes);
    assert_eq!(ok + panics + timeouts, count as usize);
    assert_eq!(panics as u64, count / 100 + u64::from(count % 100 > 37));
    // Let the overrunning requests finish in their workers, then compare memory.
    tokio::time::sleep(Duration::from_millis(OVERRUN_MS + 200)).await;
    let after = server.rss_kib();
    assert_eq!(server.status("/health/ready").await, 200, "not ready after the faults");
    eprintln!(
        "{count} requests at concurrency 64: {ok} answered, {panics} panics -> 500, {timeouts} overruns -> 504; \
         RSS {baseline} KiB before, {after} KiB after"
    );
    assert!(
        after <= baseline + 16 * 1024,
        "memory grew from {baseline} KiB to {after} KiB over {count} requests"
    );
    let metrics = reqwest::get(format!("{}/metrics", server.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("easymlserve_queue_depth 0\n"), "{metrics}");
    assert!(metrics.contains("easymlserve_busy_workers 0\n"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_answers_every_accepted_request_and_exits_0() {
    let mut server = ChildServer::start().await;
    // 64 requests of 500 ms each: all are being processed when the signal arrives.
    let load = {
        let (http, url) = (server.http.clone(), server.url.clone());
        // Ids that avoid the injected faults: every request here should succeed.
        tokio::spawn(async move { drive(&http, &url, (0..64).map(|i| i * 100 + 1), 64, 500).await })
    };
    for _ in 0..500 {
        let metrics = reqwest::get(format!("{}/metrics", server.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.contains("easymlserve_in_flight_requests 65\n") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let outcomes = load.await.unwrap();
    let accepted: Vec<_> = outcomes.iter().filter(|(_, o)| o.0 != 0).collect();
    assert_eq!(accepted.len(), 64, "every request was in flight when the signal came");
    check(&outcomes);
    server.wait_for("EXITED CLEANLY");
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "exit status {exit}");
}
