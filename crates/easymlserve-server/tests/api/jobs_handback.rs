//! Hand-back over a real `redis-server`: replicas in this test process share one Redis. A replica that
//! drains with a job still running hands it back; another one claims it (at once when it starts, or
//! within a lease period) and runs it from the kept request, and a client reading the job's events from
//! the second replica sees one numbered stream ending in `result`. A job handed back three times fails
//! with `handoff_limit` at the next stop. A handed-back job that no replica claims never waits for ever:
//! it fails `handoff_timeout` after three lease periods, a cancel ends it at once, and replicas whose
//! queues are full count each claim they give back, so the job ends with `handoff_limit`.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use easymlserve_server::jobs::{JobStore, JobsConfig, Limits, RedisStore, StoreChoice};
use easymlserve_server::{AppState, Server, ServerConfig};
use serde_json::{Value, json};

use crate::jobs::{Slow, read_events};
use crate::util::{TestServer, config};

/// A `redis-server` on a free port, killed when the test ends.
struct Redis {
    child: Child,
    url: String,
}

impl Redis {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("`redis-server` is not installed: scripts/test installs the Debian package redis-server");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            url: format!("redis://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One replica on the shared Redis, its state kept to drain it; a lease of half a second, so claims
/// come quickly.
async fn replica(redis: &Redis) -> (TestServer, AppState) {
    replica_queuing(redis, ServerConfig::default().queue_capacity).await
}

/// [`replica`] with a queue of `queue_capacity` requests.
async fn replica_queuing(redis: &Redis, queue_capacity: usize) -> (TestServer, AppState) {
    let config = ServerConfig {
        workers: 1,
        queue_capacity,
        jobs: JobsConfig {
            store: StoreChoice::Redis(redis.url.clone()),
            lease: Duration::from_millis(500),
            ..JobsConfig::default()
        },
        ..config()
    };
    let (state, router) = Server::new(Slow::default()).config(config).into_parts();
    state.load().await.expect("the model loads");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (TestServer::attach(url), state)
}

impl TestServer {
    /// Polls the job's state on this replica until it is `status`, for up to `within`.
    async fn reaches(&self, location: &str, status: &str, within: Duration) -> Value {
        let started = Instant::now();
        loop {
            let job: Value = self.get(location).await.json().await.unwrap();
            if job["status"] == status {
                return job;
            }
            assert!(started.elapsed() < within, "{location} never became {status}: {job}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Drains `state`'s jobs with a deadline of 100 ms.
async fn drain(state: &AppState) -> easymlserve_server::jobs::DrainReport {
    let jobs = Arc::clone(state.jobs());
    jobs.drain(Instant::now() + Duration::from_millis(100)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_replica_hands_its_job_back_and_another_finishes_it_on_one_event_stream() {
    let redis = Redis::start();
    let (a, a_state) = replica(&redis).await;
    let (b, _b_state) = replica(&redis).await;
    let (location, _) = a.submit(json!({"steps": 30, "step_ms": 40})).await;
    let id = location.trim_start_matches("/jobs/").to_owned();
    a.reaches(&location, "running", Duration::from_secs(10)).await;
    // Some progress first, so the new run's events visibly follow the old run's.
    let started = Instant::now();
    while a.job(&location).await["progress"].as_f64().unwrap_or(0.0) < 0.1 {
        assert!(started.elapsed() < Duration::from_secs(10), "no progress on A");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let report = drain(&a_state).await;
    assert_eq!((report.handed_back, report.failed), (1, 0), "{report}");
    let done = b.reaches(&location, "succeeded", Duration::from_secs(20)).await;
    assert_eq!(done["result"], json!({"done": 30}), "{done}");

    // From B, from the start: one stream, numbered 1, 2, 3, ... without a gap, ending in the result.
    let mut events = b.events(&location, None).await;
    let (seen, _) = read_events(&mut events, 10_000).await;
    let ids: Vec<u64> = seen.iter().map(|e| e.id.unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "{seen:?}");
    let names: Vec<&str> = seen.iter().map(|e| e.name.as_str()).collect();
    let requeued = names
        .iter()
        .rposition(|&name| name == "queued")
        .expect("a queued event");
    assert!(
        requeued > 0 && names[..requeued].contains(&"progress"),
        "the requeued event follows A's progress: {names:?}"
    );
    assert!(names[requeued..].contains(&"started"), "B started it again: {names:?}");
    assert_eq!(names.last(), Some(&"result"), "{names:?}");
    assert_eq!(seen.last().unwrap().data, json!({"done": 30}));
    // A client that had read up to the requeued event goes on from there.
    let mut rest = b.events(&location, Some(ids[requeued])).await;
    let (after, _) = read_events(&mut rest, 10_000).await;
    assert_eq!(after.first().unwrap().id, Some(ids[requeued] + 1));

    let store = RedisStore::connect(&redis.url, Limits::default()).await.unwrap();
    let record = store.get(&id).await.unwrap().unwrap();
    assert_eq!((record.handoffs, record.handed_back), (1, false), "{record:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_handed_back_three_times_fails_with_handoff_limit_at_the_next_stop() {
    let redis = Redis::start();
    let (first, first_state) = replica(&redis).await;
    let (location, _) = first.submit(json!({"steps": 400, "step_ms": 25})).await;
    first.reaches(&location, "running", Duration::from_secs(10)).await;
    let mut report = drain(&first_state).await;
    assert_eq!(report.handed_back, 1, "{report}");
    let mut kept = vec![(first, first_state)];
    for stop in 2..=4 {
        // A replica that starts claims the waiting job as soon as its model is loaded.
        let (next, next_state) = replica(&redis).await;
        next.reaches(&location, "running", Duration::from_secs(10)).await;
        report = drain(&next_state).await;
        if stop < 4 {
            assert_eq!((report.handed_back, report.failed), (1, 0), "stop {stop}: {report}");
        }
        kept.push((next, next_state));
    }
    assert_eq!((report.handed_back, report.failed), (0, 1), "{report}");
    let (last, _) = kept.last().unwrap();
    let failed = last.reaches(&location, "failed", Duration::from_secs(5)).await;
    assert_eq!(failed["error"]["error_type"], "handoff_limit", "{failed}");
    assert_eq!(failed["error"]["status"], 503, "{failed}");
    assert!(
        failed["error"]["error"].as_str().unwrap().contains("submit it again"),
        "{failed}"
    );
    let mut events = last.events(&location, None).await;
    let (seen, _) = read_events(&mut events, 10_000).await;
    let queued = seen.iter().filter(|e| e.name == "queued").count();
    assert!(queued >= 4, "one queued event per run: {seen:?}");
    assert_eq!(seen.last().unwrap().data["error_type"], "handoff_limit");
    let store = RedisStore::connect(&redis.url, Limits::default()).await.unwrap();
    let id = location.trim_start_matches("/jobs/");
    assert_eq!(store.get(id).await.unwrap().unwrap().handoffs, 3);
}

/// The lease of [`replica`]'s jobs.
const LEASE: Duration = Duration::from_millis(500);

/// A job handed back by `server`'s drain, with no other replica to claim it: its location and id.
async fn handed_back_alone(server: &TestServer, state: &AppState) -> (String, String) {
    let (location, _) = server.submit(json!({"steps": 400, "step_ms": 25})).await;
    server.reaches(&location, "running", Duration::from_secs(10)).await;
    let report = drain(state).await;
    assert_eq!((report.handed_back, report.failed), (1, 0), "{report}");
    let id = location.trim_start_matches("/jobs/").to_owned();
    (location, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handed_back_job_no_replica_claims_fails_with_handoff_timeout_after_three_leases() {
    let redis = Redis::start();
    // The only replica stops: nobody is left to claim the job, but its reaper still reads the store.
    let (alone, state) = replica(&redis).await;
    let (location, id) = handed_back_alone(&alone, &state).await;
    let waiting = alone.job(&location).await;
    assert_eq!(waiting["status"], "queued", "waiting to be claimed at first: {waiting}");

    let failed = alone.reaches(&location, "failed", Duration::from_secs(20)).await;
    assert_eq!(failed["error"]["error_type"], "handoff_timeout", "{failed}");
    assert_eq!(failed["error"]["status"], 503, "{failed}");
    let message = failed["error"]["error"].as_str().unwrap();
    assert!(
        message.contains("no other replica claimed it") && message.contains("submit it again"),
        "{message}"
    );
    let mut events = alone.events(&location, None).await;
    let (seen, _) = read_events(&mut events, 10_000).await;
    assert_eq!(seen.last().unwrap().data["error_type"], "handoff_timeout", "{seen:?}");

    // It is over in the store: no longer unfinished (so no longer scored +inf), not handed back.
    let store = RedisStore::connect(&redis.url, Limits::default()).await.unwrap();
    assert!(!store.unfinished().await.unwrap().contains(&id));
    let record = store.get(&id).await.unwrap().unwrap();
    assert_eq!((record.handed_back, record.handoffs), (false, 1), "{record:?}");
    // Not before its bound: the store's own times of the hand-back and of the end.
    let waited = record.finished_ms.unwrap() - record.handed_back_ms.unwrap();
    assert!(
        u128::from(waited) > (LEASE * 3).as_millis(),
        "failed {waited} ms after the hand-back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_of_a_handed_back_job_nobody_claimed_ends_it_canceled_at_once() {
    let redis = Redis::start();
    let (alone, state) = replica(&redis).await;
    let (location, id) = handed_back_alone(&alone, &state).await;
    let response = alone
        .http
        .post(format!("{}{location}/cancel", alone.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let canceled: Value = response.json().await.unwrap();
    assert_eq!(
        canceled["status"], "canceled",
        "the answer is already the end: {canceled}"
    );
    assert_eq!(canceled["error"]["error_type"], "canceled", "{canceled}");
    let mut events = alone.events(&location, None).await;
    let (seen, _) = read_events(&mut events, 10_000).await;
    let last = seen.last().unwrap();
    assert_eq!(
        (last.name.as_str(), &last.data["error_type"]),
        ("error", &json!("canceled"))
    );
    let store = RedisStore::connect(&redis.url, Limits::default()).await.unwrap();
    assert!(!store.unfinished().await.unwrap().contains(&id));
    // A replica that starts now finds nothing to claim.
    let (late, _late_state) = replica(&redis).await;
    assert_eq!(late.job(&location).await["status"], "canceled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_with_a_full_queue_counts_the_jobs_it_gives_back_until_handoff_limit() {
    let redis = Redis::start();
    let (a, a_state) = replica(&redis).await;
    // B runs one request and queues one more; both are long, so B cannot take another while the test runs.
    let (b, _b_state) = replica_queuing(&redis, 1).await;
    let (busy, _) = b.submit(json!({"steps": 2000, "step_ms": 25})).await;
    b.reaches(&busy, "running", Duration::from_secs(10)).await;
    b.submit(json!({"steps": 2000, "step_ms": 25})).await;
    let full = b.process(json!({"steps": 1, "step_ms": 1})).await;
    assert_eq!(full.status(), 503, "B's queue is full");

    let (location, id) = handed_back_alone(&a, &a_state).await;
    // B claims it every lease period, cannot queue it and hands it back, each time counted: the job ends.
    let failed = b.reaches(&location, "failed", Duration::from_secs(20)).await;
    assert_eq!(failed["error"]["error_type"], "handoff_limit", "{failed}");
    let store = RedisStore::connect(&redis.url, Limits::default()).await.unwrap();
    assert_eq!(store.get(&id).await.unwrap().unwrap().handoffs, 3);
    let mut events = b.events(&location, None).await;
    let (seen, _) = read_events(&mut events, 10_000).await;
    let queued = seen.iter().filter(|e| e.name == "queued").count();
    // Its first `queued`, A's hand-back and B's two: a bounded number, not one more each period.
    assert!(queued <= 4, "{queued} queued events: {seen:?}");
    assert_eq!(seen.last().unwrap().data["error_type"], "handoff_limit", "{seen:?}");
}
