//! Leases, the cancel flag they carry, and a job handed back by a stopping replica and claimed by one other.

use std::time::Duration;

use easymlserve_core::{JobEvent, JobEventKind, JobStatus};
use easymlserve_server::jobs::{JobStore, Limits};

use crate::setup::{REQUEST, Redis, progress, queued};

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
