//! Storing, reading, updating, deleting and waiting on one job, with nothing at its bounds.

use std::time::{Duration, Instant};

use easymlserve_core::{ErrorBody, JobFailure, JobStatus};
use easymlserve_server::jobs::{Created, JobStore, Limits};

use crate::setup::{REQUEST, Redis, finish, progress, queued};

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
