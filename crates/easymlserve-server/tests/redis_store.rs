//! The Redis job store against a real `redis-server` (Debian package `redis-server`, which scripts/test
//! installs): bounds, events, leases and cancel, and Redis going away and coming back mid-test.
//! Each test starts its own server on a free port, with no persistence, killed when the test ends.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use easymlserve_core::{ErrorBody, JobEvent, JobEventKind, JobFailure, JobStatus, ProgressReport};
use easymlserve_server::jobs::{Created, JobRecord, JobStore, Limits, RedisStore, StoreError};

/// Kills the server when the test ends, passed or failed, so no process outlives it.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `redis-server` of this test.
struct Redis {
    port: u16,
    password: Option<&'static str>,
    process: KillOnDrop,
}

impl Redis {
    /// Starts one on a free port.
    fn start() -> Self {
        Self::start_on(free_port(), None)
    }

    /// Starts one on `port`, asking for `password` when given; returns once it accepts connections.
    fn start_on(port: u16, password: Option<&'static str>) -> Self {
        let mut command = Command::new("redis-server");
        command
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
            .args(["--loglevel", "warning"])
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if let Some(password) = password {
            command.args(["--requirepass", password]);
        }
        let process = match command.spawn() {
            Ok(child) => KillOnDrop(child),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "`redis-server` is not installed, and the Redis job store tests need it: run scripts/test, \
                 which installs the Debian package `redis-server`"
            ),
            Err(e) => panic!("cannot start `redis-server`: {e}"),
        };
        let mut redis = Self {
            port,
            password,
            process,
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = redis.process.0.try_wait() {
                panic!("`redis-server` on port {port} exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "`redis-server` did not listen on port {port} within 5 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        redis
    }

    fn url(&self) -> String {
        match self.password {
            Some(password) => format!("redis://:{password}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    async fn store(&self, limits: Limits) -> RedisStore {
        RedisStore::connect(&self.url(), limits).await.unwrap()
    }
}

/// The request body the tests' jobs are created with.
const REQUEST: &str = r#"{"text":"hello","n":3}"#;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn queued(id: &str) -> JobRecord {
    JobRecord::queued(
        id.to_owned(),
        None,
        "digest-of-the-body".to_owned(),
        "replica-a".to_owned(),
        "run-a".to_owned(),
    )
}

fn progress(id: u64) -> JobEvent {
    JobEvent {
        id,
        kind: JobEventKind::Progress(ProgressReport::new(Some(0.1 * id as f64), format!("step {id}"), 1.0)),
    }
}

/// Writes `record` as succeeded with its result event (numbered one past its last).
async fn finish(store: &RedisStore, mut record: JobRecord) -> JobRecord {
    record.status = JobStatus::Succeeded;
    record.result = Some(serde_json::json!({"echo": "done"}));
    record.finished_ms = Some(record.created_ms + 5);
    record.last_event += 1;
    let event = JobEvent {
        id: record.last_event,
        kind: JobEventKind::Result(serde_json::json!({"echo": "done"})),
    };
    assert!(store.update(record.clone(), Some(event)).await.unwrap());
    record
}

#[tokio::test]
async fn a_job_is_stored_once_and_a_duplicate_id_finds_it() {
    let redis = Redis::start();
    let store = redis.store(Limits::default()).await;
    assert_eq!(store.describe(), format!("redis://127.0.0.1:{}", redis.port));

    let record = queued("job-1");
    assert_eq!(
        store.create(record.clone(), REQUEST.to_owned()).await.unwrap(),
        Created::New
    );
    assert_eq!(store.get("job-1").await.unwrap(), Some(record.clone()));
    let mut retry = queued("job-1");
    retry.request_digest = "another-body".to_owned();
    assert_eq!(
        store.create(retry, REQUEST.to_owned()).await.unwrap(),
        Created::Exists(record)
    );
    assert_eq!(store.get("job-2").await.unwrap(), None);
    assert_eq!(store.events("job-2", 0).await.unwrap(), Vec::new());
}

#[tokio::test]
async fn updates_append_events_trimmed_to_the_newest_and_end_at_the_terminal_state() {
    let redis = Redis::start();
    let limits = Limits {
        max_events: 3,
        ..Limits::default()
    };
    let store = redis.store(limits).await;
    let mut record = queued("job-1");
    store.create(record.clone(), REQUEST.to_owned()).await.unwrap();
    let mut earlier_run = record.clone();
    earlier_run.run = "run-of-a-deleted-job".to_owned();
    assert!(
        !store.update(earlier_run, None).await.unwrap(),
        "another run's write is refused"
    );
    record.status = JobStatus::Running;
    for id in 1..=5 {
        record.last_event = id;
        record.progress = Some(0.1 * id as f64);
        assert!(store.update(record.clone(), Some(progress(id))).await.unwrap());
    }
    assert_eq!(
        store.events("job-1", 0).await.unwrap(),
        vec![progress(3), progress(4), progress(5)]
    );
    assert_eq!(store.events("job-1", 4).await.unwrap(), vec![progress(5)]);
    assert_eq!(store.get("job-1").await.unwrap(), Some(record.clone()));
    // A state without an event (the queue position changed) writes the state only.
    record.message = "half way".to_owned();
    assert!(store.update(record.clone(), None).await.unwrap());
    assert_eq!(store.events("job-1", 0).await.unwrap().len(), 3);

    let done = finish(&store, record.clone()).await;
    let events = store.events("job-1", 0).await.unwrap();
    let ids: Vec<u64> = events.iter().map(|e| e.id).collect();
    assert_eq!(ids, [4, 5, 6], "the newest events are kept");
    assert!(events[2].kind.is_terminal(), "the terminal event is kept: {events:?}");
    assert_eq!(store.get("job-1").await.unwrap(), Some(done.clone()));

    // Over is over: a late progress report or a second ending is refused and changes nothing.
    record.last_event = 7;
    assert!(!store.update(record.clone(), Some(progress(7))).await.unwrap());
    let mut failed = done.clone();
    failed.status = JobStatus::Failed;
    failed.error = Some(JobFailure {
        body: ErrorBody {
            error: "lost".to_owned(),
            error_type: "job_lost".to_owned(),
            field: None,
        },
        status: 500,
    });
    assert!(!store.update(failed, None).await.unwrap());
    assert_eq!(store.get("job-1").await.unwrap(), Some(done));
    assert_eq!(store.events("job-1", 0).await.unwrap(), events);
    // A job that does not exist is not written either.
    assert!(!store.update(queued("job-9"), Some(progress(1))).await.unwrap());
    assert_eq!(store.get("job-9").await.unwrap(), None);
}

#[tokio::test]
async fn the_job_count_bound_refuses_new_jobs_until_finished_ones_expire() {
    let redis = Redis::start();
    let limits = Limits {
        max_jobs: 2,
        ttl: Duration::from_millis(300),
        ..Limits::default()
    };
    let store = redis.store(limits).await;
    assert_eq!(
        store.create(queued("a"), REQUEST.to_owned()).await.unwrap(),
        Created::New
    );
    assert_eq!(
        store.create(queued("b"), REQUEST.to_owned()).await.unwrap(),
        Created::New
    );
    let full = store.create(queued("c"), REQUEST.to_owned()).await.unwrap_err();
    assert!(
        matches!(&full, StoreError::Full(m) if m.contains("`--jobs-max`") && m.contains("2 jobs")),
        "{full:?}"
    );
    // A retried PUT of a kept job still finds it, full or not.
    assert!(matches!(
        store.create(queued("a"), REQUEST.to_owned()).await.unwrap(),
        Created::Exists(_)
    ));

    finish(&store, queued("a")).await;
    assert!(
        matches!(
            store.create(queued("c"), REQUEST.to_owned()).await,
            Err(StoreError::Full(_))
        ),
        "a is kept for its TTL"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(store.get("a").await.unwrap(), None, "a is gone after its TTL");
    assert_eq!(store.events("a", 0).await.unwrap(), Vec::new());
    assert_eq!(
        store.create(queued("c"), REQUEST.to_owned()).await.unwrap(),
        Created::New
    );
    assert!(
        matches!(
            store.create(queued("d"), REQUEST.to_owned()).await,
            Err(StoreError::Full(_))
        ),
        "b and c are kept"
    );
    // An id whose job expired can be used again.
    assert!(store.delete("c").await.unwrap());
    assert_eq!(
        store.create(queued("a"), REQUEST.to_owned()).await.unwrap(),
        Created::New
    );
}

#[tokio::test]
async fn the_byte_bound_counts_state_and_events_and_frees_them_on_delete_and_expiry() {
    let redis = Redis::start();
    let one = queued("a").size() + REQUEST.len();
    let limits = Limits {
        max_bytes: one * 2 + one / 2,
        ttl: Duration::from_millis(300),
        ..Limits::default()
    };
    let store = redis.store(limits).await;
    assert_eq!(
        store.create(queued("a"), REQUEST.to_owned()).await.unwrap(),
        Created::New
    );
    assert_eq!(
        store.create(queued("b"), REQUEST.to_owned()).await.unwrap(),
        Created::New
    );
    let full = store.create(queued("c"), REQUEST.to_owned()).await.unwrap_err();
    assert!(
        matches!(&full, StoreError::Full(m) if m.contains("`--jobs-max-bytes`")),
        "{full:?}"
    );
    assert!(store.delete("b").await.unwrap());
    assert_eq!(
        store.create(queued("c"), REQUEST.to_owned()).await.unwrap(),
        Created::New,
        "b's bytes were freed"
    );

    // Events count too: a's result makes the next job too many bytes, until a expires.
    let mut running = queued("a");
    running.status = JobStatus::Running;
    running.last_event = 1;
    assert!(store.update(running.clone(), Some(progress(1))).await.unwrap());
    assert!(store.delete("c").await.unwrap());
    let mut big = running.clone();
    big.message = "x".repeat(one);
    assert!(store.update(big.clone(), None).await.unwrap());
    assert!(
        matches!(
            store.create(queued("d"), REQUEST.to_owned()).await,
            Err(StoreError::Full(_))
        ),
        "a's state grew"
    );
    finish(&store, big).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        store.create(queued("d"), REQUEST.to_owned()).await.unwrap(),
        Created::New,
        "a's bytes were freed when it expired"
    );
    assert_eq!(
        store.create(queued("e"), REQUEST.to_owned()).await.unwrap(),
        Created::New
    );
}

#[tokio::test]
async fn the_request_body_is_kept_counted_and_goes_with_the_job() {
    let redis = Redis::start();
    let body = format!(r#"{{"text":"{}"}}"#, "y".repeat(400));
    let one = queued("a").size();
    let limits = Limits {
        // Room for two records, but not for two records and this body.
        max_bytes: one * 2 + 200,
        ttl: Duration::from_millis(300),
        ..Limits::default()
    };
    let store = redis.store(limits).await;
    assert_eq!(store.create(queued("a"), body.clone()).await.unwrap(), Created::New);
    assert_eq!(store.request("a").await.unwrap(), Some(body.clone()));
    assert_eq!(store.request("b").await.unwrap(), None);
    let full = store.create(queued("b"), "{}".to_owned()).await.unwrap_err();
    assert!(
        matches!(&full, StoreError::Full(m) if m.contains("`--jobs-max-bytes`")),
        "{full:?}"
    );
    assert!(store.delete("a").await.unwrap());
    assert_eq!(store.request("a").await.unwrap(), None, "deleted with the job");
    assert_eq!(store.create(queued("b"), body.clone()).await.unwrap(), Created::New);
    finish(&store, queued("b")).await;
    assert_eq!(store.request("b").await.unwrap(), Some(body), "kept while the job is");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        store.request("b").await.unwrap(),
        None,
        "gone with the job's time-to-live"
    );
    assert_eq!(store.create(queued("c"), "{}".to_owned()).await.unwrap(), Created::New);
}

#[tokio::test]
async fn delete_forgets_the_job_its_events_and_its_lease() {
    let redis = Redis::start();
    let store = redis.store(Limits::default()).await;
    let mut record = queued("job-1");
    store.create(record.clone(), REQUEST.to_owned()).await.unwrap();
    record.last_event = 1;
    assert!(store.update(record, Some(progress(1))).await.unwrap());
    assert!(!store.renew("job-1", Duration::from_secs(10)).await.unwrap());
    store.request_cancel("job-1").await.unwrap();

    assert!(store.delete("job-1").await.unwrap());
    assert_eq!(store.get("job-1").await.unwrap(), None);
    assert_eq!(store.events("job-1", 0).await.unwrap(), Vec::new());
    assert!(!store.leased("job-1").await.unwrap());
    assert!(!store.delete("job-1").await.unwrap(), "it was gone already");
    // The cancel flag went with it: a new job of that id starts uncanceled.
    store.create(queued("job-1"), REQUEST.to_owned()).await.unwrap();
    assert!(!store.renew("job-1", Duration::from_secs(10)).await.unwrap());
}

#[tokio::test]
async fn a_lease_lasts_as_long_as_asked_and_carries_a_cancel_request() {
    let redis = Redis::start();
    let store = redis.store(Limits::default()).await;
    store.create(queued("job-1"), REQUEST.to_owned()).await.unwrap();
    assert!(!store.leased("job-1").await.unwrap(), "nobody took it yet");
    assert!(
        !store.renew("job-1", Duration::from_millis(300)).await.unwrap(),
        "no cancel asked"
    );
    assert!(store.leased("job-1").await.unwrap());
    // Other replicas (and people with redis-cli) read who runs it.
    let mut raw = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let holder: String = redis::cmd("GET")
        .arg("easymlserve:job:job-1:lease")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(holder, "replica-a");
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert!(
        !store.leased("job-1").await.unwrap(),
        "the lease expired with its replica"
    );

    store.request_cancel("job-1").await.unwrap();
    assert!(
        store.renew("job-1", Duration::from_secs(10)).await.unwrap(),
        "the runner sees the cancel"
    );
    assert!(store.leased("job-1").await.unwrap());
    // A job that is gone (deleted by another replica) tells its runner to stop.
    assert!(store.renew("job-2", Duration::from_secs(10)).await.unwrap());
    assert!(!store.leased("job-2").await.unwrap());
}

#[tokio::test]
async fn wait_returns_on_a_new_event_or_after_its_timeout() {
    let redis = Redis::start();
    let store = std::sync::Arc::new(redis.store(Limits::default()).await);
    let mut record = queued("job-1");
    store.create(record.clone(), REQUEST.to_owned()).await.unwrap();

    let started = Instant::now();
    store.wait("job-1", 0, Duration::from_millis(300)).await;
    let waited = started.elapsed();
    // It waits its timeout (not a bound on speed: the upper end only proves it returns at all).
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(10),
        "{waited:?}"
    );

    let writer = std::sync::Arc::clone(&store);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        record.last_event = 1;
        writer.update(record, Some(progress(1))).await.unwrap();
    });
    // A long timeout, so returning well before it can only mean the event woke the wait.
    let timeout = Duration::from_secs(60);
    let started = Instant::now();
    store.wait("job-1", 0, timeout).await;
    let waited = started.elapsed();
    assert!(waited < timeout / 2, "wait did not return on the event: {waited:?}");
    assert_eq!(store.events("job-1", 0).await.unwrap(), vec![progress(1)]);
}

/// Every store method with Redis gone: each answers `Unavailable` (naming Redis's URL, never its
/// password) within the store's bound, and `wait` simply waits.
async fn all_unavailable(store: &RedisStore, url_without_password: &str) {
    let mut messages = Vec::new();
    macro_rules! unavailable {
        ($call:expr) => {{
            let started = Instant::now();
            let result = $call.await;
            let took = started.elapsed();
            assert!(took < Duration::from_secs(3), "{} took {took:?}", stringify!($call));
            match result {
                Err(StoreError::Unavailable(message)) => messages.push(message),
                other => panic!("{} answered {other:?}", stringify!($call)),
            }
        }};
    }
    unavailable!(store.create(queued("job-2"), REQUEST.to_owned()));
    unavailable!(store.update(queued("job-1"), Some(progress(1))));
    unavailable!(store.get("job-1"));
    unavailable!(store.events("job-1", 0));
    unavailable!(store.delete("job-1"));
    unavailable!(store.request_cancel("job-1"));
    unavailable!(store.renew("job-1", Duration::from_secs(10)));
    unavailable!(store.leased("job-1"));
    for message in &messages {
        assert!(message.contains(url_without_password), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
    let started = Instant::now();
    store.wait("job-1", 0, Duration::from_millis(300)).await;
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn redis_going_away_is_unavailable_at_once_and_the_store_works_again_when_it_is_back() {
    let port = free_port();
    let redis = Redis::start_on(port, Some("hunter2"));
    let plain_url = format!("redis://127.0.0.1:{port}");
    let store = redis.store(Limits::default()).await;
    assert_eq!(store.describe(), plain_url, "no password in the description");
    store.create(queued("job-1"), REQUEST.to_owned()).await.unwrap();

    drop(redis); // kills it
    all_unavailable(&store, &plain_url).await;
    // Redis is not there at all: connecting fails as fast, with the same kind of message.
    let started = Instant::now();
    let refused = RedisStore::connect(&format!("redis://:hunter2@127.0.0.1:{port}"), Limits::default()).await;
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(
        matches!(&refused, Err(StoreError::Unavailable(m)) if m.contains(&plain_url) && !m.contains("hunter2")),
        "{refused:?}"
    );

    // Back on the same port (empty: it keeps nothing on disk): the same store works again, no restart.
    let _redis = Redis::start_on(port, Some("hunter2"));
    let started = Instant::now();
    loop {
        match store.create(queued("job-1"), REQUEST.to_owned()).await {
            Ok(created) => {
                assert_eq!(created, Created::New);
                break;
            }
            Err(e) => assert!(
                started.elapsed() < Duration::from_secs(5),
                "still unavailable after 5 s: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the first call after Redis came back reconnected: took {:?}",
        started.elapsed()
    );
    assert!(store.renew("job-1", Duration::from_secs(10)).await.is_ok());
    assert!(store.leased("job-1").await.unwrap());
    assert_eq!(
        store.get("job-1").await.unwrap().map(|r| r.id),
        Some("job-1".to_owned())
    );
}

#[tokio::test]
async fn a_url_this_build_cannot_use_is_refused_without_repeating_its_password() {
    for url in [
        "rediss://:hunter2@127.0.0.1:6379",
        "http://:hunter2@127.0.0.1:6379",
        "not a url",
    ] {
        let refused = RedisStore::connect(url, Limits::default()).await;
        assert!(
            matches!(&refused, Err(StoreError::Unavailable(m)) if !m.contains("hunter2") && m.contains("`--job-store`")),
            "{url}: {refused:?}"
        );
    }
}

#[tokio::test]
async fn a_handed_back_job_is_claimed_once_and_the_old_runners_late_writes_are_refused() {
    let redis = Redis::start();
    let store = redis.store(Limits::default()).await;
    let mut record = queued("job-1");
    store.create(record.clone(), REQUEST.to_owned()).await.unwrap();
    store.renew("job-1", Duration::from_secs(30)).await.unwrap();
    record.status = JobStatus::Running;
    record.last_event = 1;
    assert!(store.update(record.clone(), Some(progress(1))).await.unwrap());
    let old_runner = record.clone();

    // Handed back: queued, a new run, the lease dropped, the event appended after the old ones.
    let mut back = record.clone();
    back.status = JobStatus::Queued;
    back.handed_back = true;
    back.handoffs = 1;
    back.run = "run-handed-back".to_owned();
    back.last_event = 2;
    let requeued = JobEvent {
        id: 2,
        kind: JobEventKind::Queued { position: 0 },
    };
    assert!(
        !store
            .hand_back(back.clone(), requeued.clone(), "run-of-someone-else")
            .await
            .unwrap(),
        "only the run that holds the job hands it back"
    );
    assert!(store.hand_back(back.clone(), requeued.clone(), "run-a").await.unwrap());
    assert!(!store.leased("job-1").await.unwrap(), "no lease while handed back");
    assert_eq!(store.events("job-1", 0).await.unwrap(), vec![progress(1), requeued]);
    assert!(
        !store.update(old_runner.clone(), Some(progress(3))).await.unwrap(),
        "the old runner's late write is refused"
    );

    // Claimed by one replica: a new run and its lease; a second claim of the same hand-back fails.
    let mut mine = back.clone();
    mine.handed_back = false;
    mine.replica = "replica-b".to_owned();
    mine.run = "run-b".to_owned();
    assert!(
        store
            .claim(mine.clone(), "run-handed-back", Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert!(store.leased("job-1").await.unwrap());
    let mut rival = back.clone();
    rival.handed_back = false;
    rival.run = "run-c".to_owned();
    assert!(
        !store
            .claim(rival, "run-handed-back", Duration::from_secs(30))
            .await
            .unwrap()
    );
    assert_eq!(store.get("job-1").await.unwrap(), Some(mine.clone()));
    assert!(
        !store.update(old_runner, Some(progress(3))).await.unwrap(),
        "still refused"
    );
    assert!(
        !store.update(back, None).await.unwrap(),
        "the hand-back's run is over too"
    );
    mine.status = JobStatus::Running;
    mine.last_event = 3;
    assert!(
        store.update(mine.clone(), Some(progress(3))).await.unwrap(),
        "the claimer writes"
    );
    let ids: Vec<u64> = store.events("job-1", 0).await.unwrap().iter().map(|e| e.id).collect();
    assert_eq!(ids, [1, 2, 3], "one numbered stream over both runs");
    // A job that was not handed back cannot be claimed.
    let mut other = queued("job-2");
    store.create(other.clone(), REQUEST.to_owned()).await.unwrap();
    other.run = "run-x".to_owned();
    assert!(!store.claim(other, "run-a", Duration::from_secs(30)).await.unwrap());
}
