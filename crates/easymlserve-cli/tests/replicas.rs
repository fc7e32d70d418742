//! Jobs shared by replicas through a real `redis-server`: two `easymlserve serve --python` processes on
//! one Redis (submit on one, read status and events on the other; kill the first mid-job and see the
//! job fail once its lease expires), Redis stopped and restarted mid-test (clear 503s, plain calls go
//! on, jobs work again), cancel of running Python jobs, one that stops and one that must be killed, and
//! SIGTERM leaving no Python worker behind.
//!
//! They need a Python with pydantic (`$EASYMLSERVE_TEST_VENV_SDK_PYDANTIC2`, made by `scripts/test`;
//! without it they say they are skipped) and `redis-server` (a Debian package `scripts/test` installs;
//! without it they fail, saying so).

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use easymlserve_testkit::{Redis, Replica as Process, free_port, venv_python};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_easymlserve");

fn toolbox() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../easymlserve-worker/tests/services/toolbox.py")
        .display()
        .to_string()
}

/// One replica: the binary serving the toolbox on a free port (the testkit's process guard, killed
/// on drop), and a client for it.
struct Replica {
    process: Process,
    url: String,
    http: reqwest::Client,
}

impl Replica {
    async fn start(python: &Path, extra: &[&str]) -> Self {
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--python", &toolbox(), "--port", "0", "--workers", "1"])
            .arg("--python-bin")
            .arg(python)
            .args(extra)
            .env_remove("EASYMLSERVE_API_KEYS")
            .env_remove("EASYMLSERVE_PORT");
        let process = Process::start(command, Duration::from_secs(90)).await;
        Self {
            url: process.url().to_owned(),
            process,
            http: reqwest::Client::new(),
        }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(format!("{}{path}", self.url)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Submits `body` as a job; returns its path.
    async fn submit(&self, body: &Value) -> String {
        let response = self
            .http
            .post(format!("{}/process", self.url))
            .header("prefer", "respond-async")
            .json(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "{:?}", response.text().await);
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    async fn wait_status(&self, job: &str, wanted: &[&str], within: Duration) -> Value {
        let started = Instant::now();
        loop {
            let (status, state) = self.get(job).await;
            if status == 200 && wanted.contains(&state["status"].as_str().unwrap_or("")) {
                return state;
            }
            assert!(
                started.elapsed() < within,
                "{job} never became {wanted:?}: {status} {state}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The whole event stream of `job`, as (event name, data) pairs.
    async fn events(&self, job: &str) -> Vec<(String, Value)> {
        let text = tokio::time::timeout(Duration::from_secs(30), async {
            let response = self.http.get(format!("{}{job}/events", self.url)).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.text().await.unwrap()
        })
        .await
        .expect("the stream ends after the terminal event");
        let mut events = Vec::new();
        for block in text.replace("\r\n", "\n").split("\n\n") {
            let name = block.lines().find_map(|l| l.strip_prefix("event:")).map(str::trim);
            let data = block.lines().find_map(|l| l.strip_prefix("data:")).map(str::trim);
            if let (Some(name), Some(data)) = (name, data) {
                events.push((name.to_owned(), serde_json::from_str(data).unwrap()));
            }
        }
        events
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_a_job_and_a_dead_replicas_job_fails_when_its_lease_expires() {
    let Some(python) = venv_python("SDK_PYDANTIC2") else {
        return;
    };
    let redis = Redis::start();
    let store = redis.url();
    let flags = ["--job-store", store.as_str(), "--jobs-lease-secs", "1"];
    let (a, b) = tokio::join!(Replica::start(&python, &flags), Replica::start(&python, &flags));

    // Submitted on A, followed on B: the state and every event, up to the result.
    let job = a.submit(&json!({"action": "progress", "n": 60})).await;
    let running = b
        .wait_status(&job, &["running", "succeeded"], Duration::from_secs(20))
        .await;
    assert!(running["started_at"].is_string(), "{running}");
    let events = b.events(&job).await;
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.last(), Some(&"result"), "{names:?}");
    assert!(names.contains(&"progress"), "{names:?}");
    assert_eq!(events.last().unwrap().1["n"], 60);
    let done = b.get(&job).await.1;
    assert_eq!(done["status"], "succeeded");

    // Canceled from B while A runs it: A's driver sees the request through Redis.
    let long = a.submit(&json!({"action": "cancellable", "seconds": 30})).await;
    b.wait_status(&long, &["running"], Duration::from_secs(20)).await;
    let (status, _) = b.post(&format!("{long}/cancel"), &json!({})).await;
    assert_eq!(status, 202);
    let canceled = b.wait_status(&long, &["canceled"], Duration::from_secs(10)).await;
    assert_eq!(canceled["error"]["error_type"], "canceled");

    // A dies mid-job: B marks the job failed once A's lease has expired.
    let orphan = a.submit(&json!({"action": "cancellable", "seconds": 60})).await;
    b.wait_status(&orphan, &["running"], Duration::from_secs(20)).await;
    drop(a);
    let lost = b.wait_status(&orphan, &["failed"], Duration::from_secs(15)).await;
    assert_eq!(lost["error"]["error_type"], "job_lost", "{lost}");
    let events = b.events(&orphan).await;
    assert_eq!(events.last().unwrap().0, "error");
    assert_eq!(events.last().unwrap().1["error_type"], "job_lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_going_away_gives_clear_503s_and_jobs_come_back_with_it() {
    let Some(python) = venv_python("SDK_PYDANTIC2") else {
        return;
    };
    let port = free_port();
    let mut redis = Redis::start_on(port);
    let store = redis.url();
    let server = Replica::start(&python, &["--job-store", store.as_str()]).await;
    let job = server.submit(&json!({"action": "echo", "text": "before"})).await;
    server.wait_status(&job, &["succeeded"], Duration::from_secs(20)).await;

    redis.stop();
    let (status, body) = server.get(&job).await;
    assert_eq!(
        (status, body["error_type"].as_str()),
        (503, Some("job_store_unavailable")),
        "{body}"
    );
    assert!(
        body["error"].as_str().unwrap().contains("127.0.0.1"),
        "the message names the store: {body}"
    );
    let response = server
        .http
        .post(format!("{}/process", server.url))
        .header("prefer", "respond-async")
        .json(&json!({"action": "echo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let (status, plain) = server
        .post("/process", &json!({"action": "echo", "text": "plain"}))
        .await;
    assert_eq!(
        (status, plain["text"].as_str()),
        (200, Some("plain")),
        "plain calls go on without Redis"
    );

    let _redis = Redis::start_on(port);
    let started = Instant::now();
    let again = loop {
        let response = server
            .http
            .post(format!("{}/process", server.url))
            .header("prefer", "respond-async")
            .json(&json!({"action": "echo", "text": "after"}))
            .send()
            .await
            .unwrap();
        if response.status() == 202 {
            break response.headers()["location"].to_str().unwrap().to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "jobs did not come back with Redis"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let done = server
        .wait_status(&again, &["succeeded"], Duration::from_secs(20))
        .await;
    assert_eq!(done["result"]["text"], "after");
    assert_eq!(server.get("/health/live").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canceling_python_jobs_stops_the_model_or_replaces_its_worker() {
    let Some(python) = venv_python("SDK_PYDANTIC2") else {
        return;
    };
    let server = Replica::start(&python, &[]).await;
    let (_, first) = server.post("/process", &json!({"action": "echo"})).await;
    let pid = first["pid"].as_u64().unwrap();

    // A model that checks `ctx.cancelled` stops, and its worker lives on.
    let job = server.submit(&json!({"action": "cancellable", "seconds": 30})).await;
    server.wait_status(&job, &["running"], Duration::from_secs(10)).await;
    let (status, state) = server.post(&format!("{job}/cancel"), &json!({})).await;
    assert_eq!((status, state["status"].as_str()), (202, Some("canceled")), "{state}");
    let (_, after) = server.post("/process", &json!({"action": "echo"})).await;
    assert_eq!(after["pid"].as_u64(), Some(pid), "the worker that stopped was kept");

    // A model that ignores the cancel is killed after the grace period and its worker replaced.
    let job = server.submit(&json!({"action": "hang", "seconds": 30})).await;
    server.wait_status(&job, &["running"], Duration::from_secs(10)).await;
    let (status, state) = server.post(&format!("{job}/cancel"), &json!({})).await;
    assert_eq!((status, state["status"].as_str()), (202, Some("canceled")), "{state}");
    let started = Instant::now();
    let replaced = loop {
        let (status, body) = server.post("/process", &json!({"action": "echo"})).await;
        if status == 200 {
            break body["pid"].as_u64().unwrap();
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{status} {body}");
    };
    assert_ne!(replaced, pid, "the hung worker was killed and a new one answers");
    let metrics = server.http.get(format!("{}/metrics", server.url)).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(
        metrics.contains("easymlserve_jobs_total{outcome=\"canceled\"} 2"),
        "{metrics}"
    );
}

/// The processes whose parent is `pid`, and theirs, from `/proc`.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        // `stat` is `pid (name) state ppid ...`; the name may hold spaces, so read after the last `)`.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some(rest) = stat.rfind(')').map(|at| &stat[at + 1..]) else {
            continue;
        };
        if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok()) {
            parents.push((child, ppid));
        }
    }
    let mut found = vec![pid];
    let mut at = 0;
    while at < found.len() {
        let parent = found[at];
        found.extend(
            parents
                .iter()
                .filter(|(_, ppid)| *ppid == parent)
                .map(|(child, _)| *child),
        );
        at += 1;
    }
    found.remove(0);
    found
}

/// Whether process `pid` still runs (a zombie waiting for its reaper does not).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| Some(stat[stat.rfind(')')? + 1..].split_whitespace().next()? != "Z"))
        .unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_python_workers_and_exits_0_even_with_a_job_that_hangs() {
    let Some(python) = venv_python("SDK_PYDANTIC2") else {
        return;
    };
    let flags = ["--shutdown-delay-secs", "0", "--shutdown-timeout-secs", "1"];
    let mut server = Replica::start(&python, &flags).await;
    let (_, echo) = server.post("/process", &json!({"action": "echo"})).await;
    let worker = u32::try_from(echo["pid"].as_u64().unwrap()).unwrap();
    // A job whose model ignores cancellation: only stopping its worker ends it.
    let job = server.submit(&json!({"action": "hang", "seconds": 60})).await;
    server.wait_status(&job, &["running"], Duration::from_secs(20)).await;
    let children = descendants(server.process.pid());
    assert!(children.contains(&worker), "worker {worker} is not among {children:?}");
    let exit = server.process.terminate(Duration::from_secs(30)).await;
    assert!(exit.success(), "exit {exit}: {:?}", server.process.log());
    let log = server.process.log().join("\n");
    assert!(
        log.contains("1 failed"),
        "the hanging job failed at the deadline: {log}"
    );
    // The workers may take a moment to be reaped once their parent is gone.
    let started = Instant::now();
    while children.iter().any(|&child| running(child)) {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "left running after the exit: {:?}",
            children.iter().filter(|&&child| running(child)).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
