//! Redis going away and coming back mid-test, and URLs this build cannot use: always `Unavailable`, fast,
//! and never repeating a password.

use std::time::{Duration, Instant};

use easymlserve_server::jobs::{Created, JobStore, Limits, RedisStore, StoreError};

use crate::setup::{REQUEST, Redis, free_port, progress, queued};

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
