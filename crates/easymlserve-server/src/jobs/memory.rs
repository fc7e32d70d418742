//! `MemoryStore`: jobs in this process's memory, the default store of a single server. Bounded by
//! count, bytes and a time-to-live after completion like any store; waiters are woken per job.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use easymlserve_core::{BoxFuture, JobEvent};
use tokio::sync::Notify;

use super::record::JobRecord;
use super::store::{Created, JobStore, Limits, StoreError};

/// Jobs kept in memory.
pub struct MemoryStore {
    limits: Limits,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    jobs: HashMap<String, Entry>,
    bytes: usize,
}

struct Entry {
    record: JobRecord,
    record_bytes: usize,
    /// The request body, as JSON text.
    request: String,
    events: VecDeque<(JobEvent, usize)>,
    event_bytes: usize,
    expires: Option<Instant>,
    cancel: bool,
    notify: Arc<Notify>,
}

impl Entry {
    fn bytes(&self) -> usize {
        self.record_bytes + self.request.len() + self.event_bytes
    }
}

impl Inner {
    fn remove(&mut self, id: &str) -> bool {
        match self.jobs.remove(id) {
            Some(entry) => {
                self.bytes = self.bytes.saturating_sub(entry.bytes());
                entry.notify.notify_waiters();
                true
            }
            None => false,
        }
    }

    /// Drops finished jobs past their time-to-live.
    fn sweep(&mut self, now: Instant) {
        let expired: Vec<String> = self
            .jobs
            .iter()
            .filter(|(_, entry)| entry.expires.is_some_and(|at| at <= now))
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.remove(&id);
        }
    }

    fn live(&mut self, id: &str) -> Option<&mut Entry> {
        if self.jobs.get(id)?.expires.is_some_and(|at| at <= Instant::now()) {
            self.remove(id);
            return None;
        }
        self.jobs.get_mut(id)
    }
}

impl MemoryStore {
    /// An empty store with `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            inner: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn create_now(&self, record: JobRecord, request: String) -> Result<Created, StoreError> {
        let mut inner = self.lock();
        inner.sweep(Instant::now());
        if let Some(entry) = inner.jobs.get(&record.id) {
            return Ok(Created::Exists(entry.record.clone()));
        }
        if inner.jobs.len() >= self.limits.max_jobs {
            return Err(StoreError::Full(format!(
                "{} jobs are kept (`--jobs-max`); finished ones go after their time-to-live or a DELETE",
                inner.jobs.len()
            )));
        }
        let record_bytes = record.size();
        if inner.bytes + record_bytes + request.len() > self.limits.max_bytes {
            return Err(StoreError::Full(format!(
                "the jobs kept take {} of {} bytes (`--jobs-max-bytes`)",
                inner.bytes, self.limits.max_bytes
            )));
        }
        inner.bytes += record_bytes + request.len();
        let id = record.id.clone();
        let entry = Entry {
            record,
            record_bytes,
            request,
            events: VecDeque::new(),
            event_bytes: 0,
            expires: None,
            cancel: false,
            notify: Arc::new(Notify::new()),
        };
        inner.jobs.insert(id, entry);
        Ok(Created::New)
    }

    fn update_now(&self, record: JobRecord, event: Option<JobEvent>) -> bool {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let Some(entry) = inner.jobs.get_mut(&record.id) else {
            return false;
        };
        if entry.record.status.is_terminal() || entry.record.run != record.run {
            return false;
        }
        let before = entry.bytes();
        entry.record_bytes = record.size();
        if record.status.is_terminal() {
            entry.expires = Some(Instant::now() + self.limits.ttl);
        }
        entry.record = record;
        if let Some(event) = event {
            let size = serde_json::to_vec(&event).map_or(0, |v| v.len());
            entry.events.push_back((event, size));
            entry.event_bytes += size;
            while entry.events.len() > self.limits.max_events.max(1) {
                if let Some((_, size)) = entry.events.pop_front() {
                    entry.event_bytes -= size;
                }
            }
        }
        let after = entry.bytes();
        entry.notify.notify_waiters();
        inner.bytes = (inner.bytes + after).saturating_sub(before);
        true
    }
}

impl JobStore for MemoryStore {
    fn describe(&self) -> String {
        "memory".to_owned()
    }

    fn create(&self, record: JobRecord, request: String) -> BoxFuture<'_, Result<Created, StoreError>> {
        Box::pin(async move { self.create_now(record, request) })
    }

    fn request<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move { Ok(self.lock().live(id).map(|entry| entry.request.clone())) })
    }

    fn update(&self, record: JobRecord, event: Option<JobEvent>) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move { Ok(self.update_now(record, event)) })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>> {
        Box::pin(async move { Ok(self.lock().live(id).map(|entry| entry.record.clone())) })
    }

    fn events<'a>(&'a self, id: &'a str, after: u64) -> BoxFuture<'a, Result<Vec<JobEvent>, StoreError>> {
        Box::pin(async move {
            let mut inner = self.lock();
            let events = inner.live(id).map_or_else(Vec::new, |entry| {
                entry
                    .events
                    .iter()
                    .filter(|(event, _)| event.id > after)
                    .map(|(event, _)| event.clone())
                    .collect()
            });
            Ok(events)
        })
    }

    fn wait<'a>(&'a self, id: &'a str, after: u64, timeout: Duration) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let notify = {
                let mut inner = self.lock();
                match inner.live(id) {
                    Some(entry) if entry.record.last_event <= after => Arc::clone(&entry.notify),
                    // Something new already, or nothing to wait for.
                    _ => return,
                }
            };
            let notified = notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // An update between the check above and `enable` would be missed: check once more.
            let changed = self.lock().live(id).is_none_or(|entry| entry.record.last_event > after);
            if !changed {
                let _ = tokio::time::timeout(timeout, notified).await;
            }
        })
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move { Ok(self.lock().remove(id)) })
    }

    fn request_cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            if let Some(entry) = self.lock().live(id) {
                entry.cancel = true;
            }
            Ok(())
        })
    }

    fn renew<'a>(&'a self, id: &'a str, _lease: Duration) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move { Ok(self.lock().live(id).is_some_and(|entry| entry.cancel)) })
    }

    fn leased<'a>(&'a self, _id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async { Ok(true) })
    }
}

#[cfg(test)]
mod tests {
    use easymlserve_core::{JobEventKind, JobStatus};

    use super::*;

    fn record(id: &str) -> JobRecord {
        JobRecord::queued(
            id.to_owned(),
            None,
            "digest".to_owned(),
            "test:1".to_owned(),
            "run-1".to_owned(),
        )
    }

    fn event(id: u64, kind: JobEventKind) -> JobEvent {
        JobEvent { id, kind }
    }

    #[tokio::test]
    async fn events_are_trimmed_oldest_first_and_the_end_is_final() {
        let store = MemoryStore::new(Limits {
            max_events: 3,
            ..Limits::default()
        });
        let mut job = record("a");
        assert_eq!(store.create(job.clone(), "{}".to_owned()).await, Ok(Created::New));
        let mut earlier_run = job.clone();
        earlier_run.run = "run-0".to_owned();
        assert!(
            !store.update(earlier_run, None).await.unwrap(),
            "another run's write is refused"
        );
        for n in 1..=5 {
            job.last_event = n;
            assert!(
                store
                    .update(job.clone(), Some(event(n, JobEventKind::Started {})))
                    .await
                    .unwrap()
            );
        }
        job.status = JobStatus::Succeeded;
        job.last_event = 6;
        let result = JobEventKind::Result(serde_json::json!({"ok": true}));
        assert!(store.update(job.clone(), Some(event(6, result))).await.unwrap());
        let kept: Vec<u64> = store.events("a", 0).await.unwrap().iter().map(|e| e.id).collect();
        assert_eq!(kept, [4, 5, 6], "the newest three, the terminal one among them");
        job.status = JobStatus::Failed;
        assert!(!store.update(job, None).await.unwrap(), "a finished job stays finished");
        assert_eq!(store.get("a").await.unwrap().unwrap().status, JobStatus::Succeeded);
        assert!(matches!(
            store.create(record("a"), "{}".to_owned()).await,
            Ok(Created::Exists(_))
        ));
    }

    #[tokio::test]
    async fn the_byte_bound_refuses_new_jobs_until_one_is_deleted() {
        let size = record("a").size();
        let store = MemoryStore::new(Limits {
            max_bytes: size * 2 + size / 2,
            ..Limits::default()
        });
        store.create(record("a"), "{}".to_owned()).await.unwrap();
        store.create(record("b"), "{}".to_owned()).await.unwrap();
        let full = store.create(record("c"), "{}".to_owned()).await.unwrap_err();
        assert!(full.to_string().contains("--jobs-max-bytes"), "{full}");
        assert!(store.delete("a").await.unwrap());
        assert_eq!(store.create(record("c"), "{}".to_owned()).await, Ok(Created::New));
    }

    #[tokio::test]
    async fn the_request_body_counts_against_the_byte_bound_and_goes_with_the_job() {
        let size = record("a").size();
        let store = MemoryStore::new(Limits {
            max_bytes: size * 2 + 100,
            ..Limits::default()
        });
        let body = format!(r#"{{"text":"{}"}}"#, "y".repeat(200));
        store.create(record("a"), body.clone()).await.unwrap();
        assert_eq!(store.request("a").await.unwrap(), Some(body.clone()));
        let full = store.create(record("b"), "{}".to_owned()).await.unwrap_err();
        assert!(full.to_string().contains("--jobs-max-bytes"), "{full}");
        assert!(store.delete("a").await.unwrap());
        assert_eq!(store.request("a").await.unwrap(), None);
        assert_eq!(store.create(record("b"), body).await, Ok(Created::New));
    }

    #[tokio::test]
    async fn a_waiter_wakes_when_an_event_arrives() {
        let store = Arc::new(MemoryStore::new(Limits::default()));
        let mut job = record("w");
        store.create(job.clone(), "{}".to_owned()).await.unwrap();
        let waiter = {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let started = Instant::now();
                store.wait("w", 0, Duration::from_secs(10)).await;
                started.elapsed()
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        job.last_event = 1;
        store
            .update(job, Some(event(1, JobEventKind::Started {})))
            .await
            .unwrap();
        let waited = waiter.await.unwrap();
        assert!(
            waited < Duration::from_secs(5),
            "woken by the update, not the timeout: {waited:?}"
        );
    }
}
