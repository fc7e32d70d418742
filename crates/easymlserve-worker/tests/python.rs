//! Python services served in-process (`Server::from_backend(PythonBackend)` on 127.0.0.1:0), with
//! real worker processes running the real SDK: every route and error status, crashes, timeouts,
//! cancellation, concurrency, progress, batching and a `load_model` that raises.
//!
//! They need a Python with pydantic: `$EASYMLSERVE_TEST_VENV_SDK_PYDANTIC2/bin/python`, which
//! `scripts/test` creates; without the variable each test says it is skipped and passes.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use easymlserve_server::{Event, ExecError, Readiness, ServerConfig, Submit};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use support::{Served, python_bin};

fn server_config() -> ServerConfig {
    ServerConfig {
        workers: 2,
        queue_capacity: 64,
        timeout: Duration::from_secs(20),
        body_limit: 64 * 1024,
        ..ServerConfig::default()
    }
}

impl Served {
    async fn toolbox(python: PathBuf) -> Self {
        Self::start(python, "toolbox.py", server_config(), Duration::from_millis(500)).await
    }

    async fn post(&self, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/process", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(format!("{}{path}", self.url)).send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// Sends echo requests, two at a time, until answers have come from `count` different processes
    /// none of which is in `not`; returns their pids.
    async fn wait_for_pids(&self, count: usize, not: &[u32]) -> HashSet<u32> {
        let started = Instant::now();
        let mut seen = HashSet::new();
        while started.elapsed() < Duration::from_secs(30) {
            let (a, b) = tokio::join!(
                self.post(json!({"action": "echo", "text": "a"})),
                self.post(json!({"action": "echo", "text": "b"}))
            );
            for (status, body) in [a, b] {
                assert_eq!(status, 200, "{body}");
                let pid = u32::try_from(body["pid"].as_u64().unwrap()).unwrap();
                assert!(!not.contains(&pid), "an answer came from the old worker {pid}");
                seen.insert(pid);
            }
            if seen.len() >= count {
                return seen;
            }
        }
        panic!("answers came from {seen:?} only, not {count} different workers");
    }

    /// Polls `/health/ready` every 20 ms in the background; the flag says whether it ever was not 200.
    fn watch_readiness(&self) -> (Arc<AtomicBool>, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
        let failed = Arc::new(AtomicBool::new(false));
        let polls = Arc::new(AtomicUsize::new(0));
        let (url, http) = (format!("{}/health/ready", self.url), self.http.clone());
        let (flag, count) = (Arc::clone(&failed), Arc::clone(&polls));
        let task = tokio::spawn(async move {
            loop {
                let ok = http.get(&url).send().await.is_ok_and(|r| r.status() == 200);
                if !ok {
                    flag.store(true, Ordering::SeqCst);
                }
                count.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        (failed, polls, task)
    }
}

/// Waits until the model wrote its pid to `path`, and returns it.
async fn pid_in(path: &Path) -> u32 {
    let started = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text.trim().parse().unwrap();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the model never wrote {}",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

async fn wait_until_gone(pid: u32) {
    let started = Instant::now();
    while alive(pid) {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "process {pid} is still there"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_and_error_status_of_a_python_service() {
    let Some(python) = python_bin() else { return };
    let served = Served::toolbox(python).await;
    assert_eq!(served.state.engine().readiness(), Readiness::Ready);

    assert_eq!(served.get("/health/live").await.0, 200);
    assert_eq!(served.get("/health/ready").await, (200, json!({"status": "ready"})));

    let (status, spec) = served.get("/api/spec").await;
    assert_eq!(status, 200);
    assert_eq!(spec["name"], "Toolbox");
    assert_eq!(spec["version"], "2.1.0");
    assert_eq!(
        spec["description"],
        "Does what the request says, so every outcome of a request can be tested."
    );
    assert_eq!(
        spec["example_request"],
        json!({"action": "echo", "text": "hello", "n": 1})
    );
    assert_eq!(spec["capabilities"]["progress"], true);
    let properties = &spec["request_schema"]["properties"];
    assert_eq!(properties["n"]["maximum"], 100, "{spec}");
    assert!(
        properties["action"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("hang")),
        "{spec}"
    );
    assert!(spec["response_schema"]["properties"]["pid"].is_object(), "{spec}");

    let (status, openapi) = served.get("/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(openapi["info"]["title"], "Toolbox", "{openapi}");
    assert!(openapi["paths"]["/process"]["post"].is_object(), "{openapi}");
    assert!(
        openapi.to_string().contains("\"cancellable\""),
        "the request schema is in the document"
    );
    assert_eq!(served.get("/docs").await.0, 200);
    let (status, metrics) = served.get("/metrics").await;
    assert_eq!(status, 200);
    assert!(metrics.as_str().unwrap().contains("easymlserve_"), "{metrics}");

    let (status, body) = served.post(json!({"action": "echo", "text": "hi", "n": 3})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["text"].as_str(), body["n"].as_u64()), (Some("hi"), Some(3)));
    assert!(body["pid"].as_u64().unwrap() > 1);

    // The Rust edge: malformed JSON, a body over the limit, the wrong content type, a schema violation.
    let raw = |body: Vec<u8>, content_type: &'static str| {
        served
            .http
            .post(format!("{}/process", served.url))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let response = raw(b"{\"action\": ".to_vec(), "application/json").await.unwrap();
    assert_eq!(response.status(), 400);
    let response = raw(vec![b' '; 100 * 1024], "application/json").await.unwrap();
    assert_eq!(response.status(), 413);
    let response = raw(b"{}".to_vec(), "text/plain").await.unwrap();
    assert_eq!(response.status(), 415);
    let (status, body) = served.post(json!({"action": "echo", "n": 1000})).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("n")), "{body}");
    let (status, body) = served.post(json!({"action": "dance"})).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("action")), "{body}");

    // The model: invalid input with its message and field, a refusal with its own status, a failure.
    let (status, body) = served.post(json!({"action": "invalid", "text": "bad"})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"], "`text` must not be 'bad'");
    assert_eq!(body["error_type"], "invalid_input");
    assert_eq!(body["field"], "text");
    let (status, body) = served.post(json!({"action": "refuse"})).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"], "no such thing");
    let (status, body) = served.post(json!({"action": "fail"})).await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error_type"], "model_error");
    let text = body.to_string();
    assert!(
        !text.contains("4711") && !text.contains("Traceback"),
        "internals leaked: {text}"
    );

    // The workers live on after every kind of failure.
    served.wait_for_pids(2, &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_request_fails_that_request_and_comes_back() {
    let Some(python) = python_bin() else { return };
    let served = Served::toolbox(python).await;
    let before = served.wait_for_pids(2, &[]).await;
    let (not_ready, polls, watcher) = served.watch_readiness();
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pid");
    let request = json!({"action": "hang", "text": marker.display().to_string(), "seconds": 30});
    let hanging = {
        let (http, url) = (served.http.clone(), format!("{}/process", served.url));
        tokio::spawn(async move { http.post(url).json(&request).send().await.unwrap() })
    };
    let pid = pid_in(&marker).await;
    assert!(before.contains(&pid));
    kill(Pid::from_raw(i32::try_from(pid).unwrap()), Signal::SIGKILL).unwrap();
    let response = hanging.await.unwrap();
    assert_eq!(response.status(), 500);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error_type"], "worker_crashed", "{body}");
    assert!(!body.to_string().contains(&pid.to_string()), "internals leaked: {body}");

    // The other worker serves at once; the killed one is replaced by a new process.
    for _ in 0..5 {
        assert_eq!(served.post(json!({"action": "echo"})).await.0, 200);
    }
    let after = served.wait_for_pids(2, &[pid]).await;
    assert!(!alive(pid), "the killed worker was reaped");
    assert_eq!(after.intersection(&before).count(), 1, "{before:?} -> {after:?}");
    watcher.abort();
    assert!(polls.load(Ordering::SeqCst) > 5);
    assert!(!not_ready.load(Ordering::SeqCst), "/health/ready stayed 200 throughout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_exits_or_kills_itself_fails_only_its_request() {
    let Some(python) = python_bin() else { return };
    let served = Served::toolbox(python).await;
    let before = served.wait_for_pids(2, &[]).await;
    let (not_ready, _, watcher) = served.watch_readiness();
    let (status, body) = served.post(json!({"action": "exit"})).await;
    assert_eq!(
        (status, body["error_type"].as_str()),
        (500, Some("worker_crashed")),
        "{body}"
    );
    assert_eq!(served.post(json!({"action": "echo"})).await.0, 200);
    let (status, body) = served.post(json!({"action": "kill_self"})).await;
    assert_eq!(
        (status, body["error_type"].as_str()),
        (500, Some("worker_crashed")),
        "{body}"
    );
    let after = served.wait_for_pids(2, &[]).await;
    assert!(after.len() == 2);
    let still_there: Vec<_> = before.iter().filter(|pid| alive(**pid)).collect();
    assert!(
        still_there.len() <= 1,
        "at least one process was replaced: {before:?} -> {after:?}"
    );
    watcher.abort();
    assert!(!not_ready.load(Ordering::SeqCst), "/health/ready stayed 200 throughout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_is_504_and_a_model_that_ignores_cancel_is_replaced() {
    let Some(python) = python_bin() else { return };
    let config = ServerConfig {
        timeout: Duration::from_millis(1500),
        ..server_config()
    };
    let served = Served::start(python, "toolbox.py", config, Duration::from_millis(500)).await;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pid");
    let request = json!({"action": "hang", "text": marker.display().to_string(), "seconds": 30});
    let started = Instant::now();
    let (status, body) = served.post(request).await;
    assert_eq!((status, body["error_type"].as_str()), (504, Some("timeout")), "{body}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let pid = std::fs::read_to_string(&marker).unwrap().trim().parse::<u32>().unwrap();
    // Cancel, 0.5 s of grace, then the kill: well before the model's 30 s are up.
    wait_until_gone(pid).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    served.wait_for_pids(2, &[pid]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_stops_when_cancelled_keeps_its_worker() {
    let Some(python) = python_bin() else { return };
    let config = ServerConfig {
        timeout: Duration::from_millis(1000),
        ..server_config()
    };
    let served = Served::start(python, "toolbox.py", config, Duration::from_millis(1500)).await;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pid");
    let request = json!({"action": "cancellable", "text": marker.display().to_string(), "seconds": 30});
    let (status, body) = served.post(request).await;
    assert_eq!((status, body["error_type"].as_str()), (504, Some("timeout")), "{body}");
    let pid = std::fs::read_to_string(&marker).unwrap().trim().parse::<u32>().unwrap();
    // Past the grace period the worker is still the same process, and it answers again.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert!(alive(pid), "the worker that stopped in time was not killed");
    let pids = served.wait_for_pids(2, &[]).await;
    assert!(pids.contains(&pid), "{pids:?} lacks {pid}");
}

/// A caller that goes away while its request runs (well before the timeout) cancels it in the model:
/// the engine polls the request's task again when the caller leaves, which sends `cancel` at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_leaves_cancels_the_running_model_before_the_timeout() {
    let Some(python) = python_bin() else { return };
    let config = ServerConfig {
        timeout: Duration::from_secs(60),
        ..server_config()
    };
    let served = Served::start(python, "toolbox.py", config, Duration::from_secs(30)).await;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pid");
    let request = json!({"action": "cancellable", "text": marker.display().to_string(), "seconds": 60});
    let engine = served.state.engine();
    let execution = engine
        .submit(engine.validate(request).unwrap(), Submit::default())
        .unwrap();
    let pid = pid_in(&marker).await;
    drop(execution);
    let seen = dir.path().join("pid.cancelled");
    let mut waited = 0;
    while !seen.exists() {
        assert!(waited < 500, "the model never saw the cancel of a caller that left");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
    // The model stopped when asked: its worker is kept and serves again.
    let pids = served.wait_for_pids(2, &[]).await;
    assert!(pids.contains(&pid), "{pids:?} lacks {pid}");
    assert!(alive(pid));
}

/// The queue bound holds for a Python service too: 2 workers and a queue of 1 take three requests at
/// once, and a fourth is refused (503 queue_full) at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_refuses_a_python_request_at_once() {
    let Some(python) = python_bin() else { return };
    let config = ServerConfig {
        queue_capacity: 1,
        timeout: Duration::from_secs(60),
        ..server_config()
    };
    let served = Served::start(python, "toolbox.py", config, Duration::from_secs(5)).await;
    let dir = tempfile::tempdir().unwrap();
    let engine = served.state.engine();
    let running: Vec<_> = (0..3)
        .map(|i| {
            let marker = dir.path().join(format!("pid{i}"));
            let request = json!({"action": "cancellable", "text": marker.display().to_string(), "seconds": 60});
            engine
                .submit(engine.validate(request).unwrap(), Submit::default())
                .unwrap()
        })
        .collect();
    // Two of the three hold the workers and the third waits; which ones is up to the runtime (the
    // three tasks are spawned at once and need not run in that order).
    let markers: Vec<PathBuf> = (0..3).map(|i| dir.path().join(format!("pid{i}"))).collect();
    let started = Instant::now();
    let holding = loop {
        let holding: Vec<&PathBuf> = markers.iter().filter(|marker| marker.exists()).collect();
        if holding.len() == 2 {
            break holding;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "two models never took their requests: {holding:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let refused = engine.submit(
        engine
            .validate(json!({"action": "echo", "text": "one too many"}))
            .unwrap(),
        Submit::default(),
    );
    assert!(
        matches!(refused, Err(ExecError::QueueFull { capacity: 1 })),
        "{refused:?}"
    );
    let (status, body) = served.post(json!({"action": "echo", "text": "over HTTP"})).await;
    assert_eq!(
        (status, body["error_type"].as_str()),
        (503, Some("queue_full")),
        "{body}"
    );
    // Once those callers leave, their slots are free again: as soon as the engine's books show no
    // request waiting or running (each slot is released before its request leaves the books). The
    // bound is well past the cancel grace: a worker that did not stop in time is killed first, and on
    // a loaded machine that, or the cancel itself, can take seconds.
    drop(running);
    let started = Instant::now();
    loop {
        let (_, metrics) = served.get("/metrics").await;
        let text = metrics.as_str().unwrap_or_default().to_owned();
        let idle = ["easymlserve_queue_depth 0\n", "easymlserve_busy_workers 0\n"]
            .iter()
            .all(|line| text.contains(line));
        if idle {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(40),
            "the requests of the callers that left still hold their slots: {text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for marker in holding {
        let seen = marker.with_extension("cancelled");
        assert!(
            seen.exists(),
            "the model holding {marker:?} was not cancelled by its caller leaving"
        );
    }
    let (status, body) = served.post(json!({"action": "echo", "text": "later"})).await;
    assert_eq!(status, 200, "the slots of the callers that left were not freed: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_concurrent_requests_over_two_workers_each_get_their_own_answer() {
    let Some(python) = python_bin() else { return };
    let served = Arc::new(Served::toolbox(python).await);
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let served = Arc::clone(&served);
            tokio::spawn(async move {
                let text = format!("request-{i}");
                let (status, body) = served.post(json!({"action": "echo", "text": text, "n": i})).await;
                assert_eq!(status, 200, "{body}");
                assert_eq!(body["text"], text);
                assert_eq!(body["n"], i);
                u32::try_from(body["pid"].as_u64().unwrap()).unwrap()
            })
        })
        .collect();
    let mut pids = HashSet::new();
    for task in tasks {
        pids.insert(task.await.unwrap());
    }
    assert!(!pids.is_empty() && pids.len() <= 2, "{pids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_reported_by_the_python_model_reaches_an_in_process_subscriber() {
    let Some(python) = python_bin() else { return };
    let served = Served::toolbox(python).await;
    let engine = served.state.engine();
    let valid = engine.validate(json!({"action": "progress", "n": 5})).unwrap();
    let mut execution = engine
        .submit(
            valid,
            Submit {
                progress: true,
                ..Submit::default()
            },
        )
        .unwrap();
    let mut events = Vec::new();
    while let Some(event) = execution.next().await {
        events.push(event);
    }
    assert_eq!(events.len(), 6, "{events:?}");
    for (i, event) in events[..5].iter().enumerate() {
        let Event::Progress(progress) = event else {
            panic!("event {i} is not progress: {event:?}");
        };
        assert_eq!(progress.fraction, Some((i + 1) as f64 / 5.0), "{events:?}");
        assert_eq!(progress.message, format!("step {} of 5", i + 1));
    }
    let Event::Result(body) = &events[5] else {
        panic!("the last event is not the result: {events:?}");
    };
    let body: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(body["n"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_model_that_raises_leaves_the_server_up_and_not_ready() {
    let Some(python) = python_bin() else { return };
    let served = Served::start(python, "broken_load.py", server_config(), Duration::from_secs(1)).await;
    let Readiness::Failed(reason) = served.state.engine().readiness() else {
        panic!("not failed: {:?}", served.state.engine().readiness());
    };
    assert_eq!(reason, "FileNotFoundError: the weights file weights.bin is missing");
    let (status, body) = served.get("/health/ready").await;
    assert_eq!(status, 503);
    assert_eq!(body["status"], "failed");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .ends_with("FileNotFoundError: the weights file weights.bin is missing"),
        "{body}"
    );
    assert_eq!(served.get("/health/live").await.0, 200);
    assert_eq!(served.post(json!({"x": 1})).await.0, 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_service_with_process_batch_gets_batches() {
    let Some(python) = python_bin() else { return };
    let mut config = server_config();
    config.batching.max_size = 8;
    config.batching.max_wait = Duration::from_millis(100);
    let served = Arc::new(Served::start(python, "batching.py", config, Duration::from_secs(1)).await);
    assert!(served.state.spec().unwrap().capabilities.batching);
    let tasks: Vec<_> = (0..16_u64)
        .map(|x| {
            let served = Arc::clone(&served);
            tokio::spawn(async move { (x, served.post(json!({"x": x})).await) })
        })
        .collect();
    let mut largest = 0;
    for task in tasks {
        let (x, (status, body)) = task.await.unwrap();
        if x == 13 {
            assert_eq!((status, body["field"].as_str()), (422, Some("x")), "{body}");
            continue;
        }
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["y"], 2 * x);
        largest = largest.max(body["batch"].as_u64().unwrap());
    }
    assert!(largest > 1, "no request was answered in a batch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interpreter_that_is_missing_or_dies_at_once_is_a_clear_load_error() {
    if python_bin().is_none() {
        return;
    }
    let served = Served::start(
        PathBuf::from("/nonexistent/python3"),
        "toolbox.py",
        server_config(),
        Duration::from_secs(1),
    )
    .await;
    let Readiness::Failed(reason) = served.state.engine().readiness() else {
        panic!("not failed: {:?}", served.state.engine().readiness());
    };
    assert!(reason.contains("cannot start `/nonexistent/python3`"), "{reason}");

    // A program that is not Python at all exits before it connects: its stderr explains why.
    let served = Served::start(
        PathBuf::from("/bin/sh"),
        "toolbox.py",
        server_config(),
        Duration::from_secs(1),
    )
    .await;
    let Readiness::Failed(reason) = served.state.engine().readiness() else {
        panic!("not failed: {:?}", served.state.engine().readiness());
    };
    assert!(reason.contains("exited with status"), "{reason}");
    assert!(
        reason.contains("easymlserve.worker"),
        "the last stderr lines are in the reason: {reason}"
    );
    assert_eq!(served.get("/health/live").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_speaks_another_protocol_version_is_stopped() {
    if python_bin().is_none() {
        return;
    }
    let fake = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/services/future_worker.sh");
    let served = Served::start(fake, "toolbox.py", server_config(), Duration::from_secs(1)).await;
    let Readiness::Failed(reason) = served.state.engine().readiness() else {
        panic!("not failed: {:?}", served.state.engine().readiness());
    };
    assert!(
        reason.contains("it speaks protocol version 99, this server speaks 1"),
        "{reason}"
    );
}
