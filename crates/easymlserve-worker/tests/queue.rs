//! The queue contract on the asynchronous Python path: a request waiting for a busy worker process
//! is queued, with its position, in `easymlserve_queue_depth` and out of `easymlserve_busy_workers`,
//! until it leases a worker; the workers go to the waiting requests first come, first served; and the
//! slots of callers that leave are free again once their workers are. Real worker processes (the
//! toolbox service) behind a real server on 127.0.0.1:0.
//!
//! They need `$EASYMLSERVE_TEST_VENV_SDK_PYDANTIC2` (see `python.rs`); without it each test says it is
//! skipped and passes.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use easymlserve_server::{Execution, ServerConfig, Submit};
use serde_json::{Value, json};
use support::{Served, python_bin};

impl Served {
    /// Submits `request` in process (the caller that keeps the execution waits for it).
    fn submit(&self, request: Value) -> Execution {
        let engine = self.state.engine();
        engine
            .submit(engine.validate(request).unwrap(), Submit::default())
            .unwrap()
    }

    /// Submits `request` as a job over HTTP; its location.
    async fn job(&self, request: Value) -> String {
        let response = self
            .http
            .post(format!("{}/process", self.url))
            .header("prefer", "respond-async")
            .json(&request)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.url)).send().await.unwrap()
    }

    async fn wait_job(&self, location: &str, until: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let job: Value = self.get(location).await.json().await.unwrap();
            if until(&job) {
                return job;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "{job}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The value of an unlabelled gauge in `/metrics`.
    async fn gauge(&self, name: &str) -> f64 {
        let text = self.get("/metrics").await.text().await.unwrap();
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    }
}

/// Waits for the model to write its process id to `path` (it holds the request then).
async fn pid_in(path: &Path) {
    for _ in 0..1500 {
        if path.exists() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the model never took the request that writes {}", path.display());
}

fn config(workers: usize, queue_capacity: usize) -> ServerConfig {
    ServerConfig {
        workers,
        queue_capacity,
        timeout: Duration::from_secs(60),
        body_limit: 64 * 1024,
        ..ServerConfig::default()
    }
}

/// Blocks the only worker with a request that runs until cancelled; the execution cancels it when
/// dropped.
async fn block_the_worker(served: &Served, dir: &Path) -> Execution {
    let marker = dir.join("blocker");
    let blocker = served.submit(json!({"action": "cancellable", "text": marker.display().to_string(), "seconds": 60}));
    pid_in(&marker).await;
    blocker
}

/// Behind one busy worker, three jobs are queued with positions 0, 1 and 2, counted in
/// `queue_depth` and not in `busy_workers`; once the worker is free they run one after the other in
/// the order they came.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_requests_behind_a_busy_worker_are_queued_with_their_positions_and_served_in_order() {
    let Some(python) = python_bin() else { return };
    let served = Served::start(python, "toolbox.py", config(1, 8), Duration::from_secs(5)).await;
    let dir = tempfile::tempdir().unwrap();
    let blocker = block_the_worker(&served, dir.path()).await;
    assert!(blocker.has_started() && blocker.queue_position().is_none());
    let mut jobs = Vec::new();
    for n in 1..=3 {
        // Each takes 50 ms in the model (5 progress steps of 10 ms), so their ends are apart.
        jobs.push(
            served
                .job(json!({"action": "progress", "n": 5, "text": format!("job {n}")}))
                .await,
        );
        // Time for the request's task to take its place in the line for the worker.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (position, job) in jobs.iter().enumerate() {
        let waiting = served.wait_job(job, |j| j["queue_position"] == position).await;
        assert_eq!(waiting["status"], "queued", "{waiting}");
    }
    let queued = served.submit(json!({"action": "echo", "text": "in process"}));
    assert_eq!(queued.queue_position(), Some(3));
    assert!(!queued.has_started());
    assert_eq!(served.gauge("easymlserve_queue_depth").await, 4.0);
    assert_eq!(served.gauge("easymlserve_busy_workers").await, 1.0);

    drop(blocker);
    let mut finished = Vec::new();
    for (n, job) in jobs.iter().enumerate() {
        let done = served.wait_job(job, |j| j["status"] == "succeeded").await;
        assert_eq!(done["result"]["text"], format!("job {}", n + 1), "{done}");
        finished.push(done["finished_at"].as_str().unwrap().to_owned());
    }
    assert!(
        finished.windows(2).all(|w| w[0] < w[1]),
        "not first come, first served: {finished:?}"
    );
    let answer: Value = serde_json::from_slice(&queued.result().await.unwrap()).unwrap();
    assert_eq!(answer["text"], "in process");
    assert_eq!(served.gauge("easymlserve_queue_depth").await, 0.0);
    assert_eq!(served.gauge("easymlserve_busy_workers").await, 0.0);
}

/// A request that waits for a worker and whose caller leaves gives up its place: it never reaches the
/// model, leaves the queue at once, and the worker goes to the request behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_python_request_whose_caller_leaves_gives_its_place_to_the_next() {
    let Some(python) = python_bin() else { return };
    let served = Served::start(python, "toolbox.py", config(1, 8), Duration::from_secs(5)).await;
    let dir = tempfile::tempdir().unwrap();
    let blocker = block_the_worker(&served, dir.path()).await;
    let left_marker = dir.path().join("left");
    let left =
        served.submit(json!({"action": "cancellable", "text": left_marker.display().to_string(), "seconds": 60}));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let next = served.submit(json!({"action": "echo", "text": "next"}));
    assert_eq!(served.gauge("easymlserve_queue_depth").await, 2.0);
    drop(left);
    let started = Instant::now();
    while served.gauge("easymlserve_queue_depth").await != 1.0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the request that left stayed queued"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Still queued (the position counts the request that left until the worker passes it, as the
    // thread path's does until a worker pops it).
    assert!(next.queue_position().is_some() && !next.has_started());
    drop(blocker);
    let answer: Value = serde_json::from_slice(&next.result().await.unwrap()).unwrap();
    assert_eq!(answer["text"], "next");
    assert!(!left_marker.exists(), "the model ran a request whose caller had left");
}
