//! The store's bounds: the job count, the bytes kept (state, events and request body), and the time-to-live
//! that frees finished jobs.

use std::time::Duration;

use easymlserve_core::JobStatus;
use easymlserve_server::jobs::{Created, JobStore, Limits, StoreError};

use crate::setup::{REQUEST, Redis, finish, progress, queued};

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
