//! Jobs: long-running requests that outlive the connection that submitted them. The manager submits a
//! validated request to the engine, keeps the job's state and events in a [`JobStore`] (memory, or
//! Redis shared by replicas), and answers for any job in the store: its state, its events, cancel and
//! delete, each only for the API key that submitted it. docs/jobs.md is the contract.

mod config;
mod drain;
mod driver;
mod handback;
mod memory;
mod record;
pub mod redis;
pub(crate) mod routes;
pub(crate) mod sse;
mod store;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use easymlserve_core::{JobEvent, JobStatus, RequestId};
use sha2::{Digest, Sha256};

pub use config::{JobArgs, JobsConfig, StoreChoice};
pub use drain::DrainReport;
pub use memory::MemoryStore;
pub use record::JobRecord;
pub use redis::RedisStore;
pub use store::{Created, JobStore, Limits, StoreError};

use crate::engine::{Engine, Submit, Valid};
use crate::error::ApiError;
use crate::ids::{hex, random_hex};
use crate::metrics::Metrics;
use driver::{Driver, LocalJob};

/// How often the reaper looks while the model loads.
const STARTUP_POLL: Duration = Duration::from_millis(100);

/// Longest id a client may choose.
const MAX_ID: usize = 128;

/// The SHA-256 of `bytes` in hex: how API keys and request bodies are kept in a store.
pub(crate) fn digest(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Checks an id a client chose: 1 to 128 characters of `A-Z a-z 0-9 - _ .`.
pub(crate) fn check_id(id: &str) -> Result<(), ApiError> {
    // `.` and `..` would be path segments a client or proxy folds away.
    let usable = !id.is_empty()
        && !id.bytes().all(|b| b == b'.')
        && id.len() <= MAX_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if usable {
        Ok(())
    } else {
        Err(ApiError::InvalidJobId(format!(
            "`id` must be 1 to {MAX_ID} characters of A-Z, a-z, 0-9, `-`, `_` or `.` (not only dots), got `{}`",
            id.chars().take(MAX_ID + 8).collect::<String>()
        )))
    }
}

fn new_id() -> String {
    format!("job-{}", random_hex())
}

fn replica_name() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    format!("{host}:{}", std::process::id())
}

fn unavailable(err: StoreError) -> ApiError {
    match err {
        StoreError::Full(reason) => ApiError::JobsFull(reason),
        StoreError::Unavailable(reason) => ApiError::JobStoreUnavailable(reason),
    }
}

/// A submitted job and whether this call created it (a retried `PUT` finds the existing one).
#[derive(Debug)]
pub struct Submitted {
    /// Its state now.
    pub record: JobRecord,
    /// False when a job with that id and body existed already.
    pub created: bool,
}

/// The jobs of one server.
pub struct Jobs {
    config: JobsConfig,
    store: tokio::sync::OnceCell<Arc<dyn JobStore>>,
    engine: Arc<Engine>,
    metrics: Arc<Metrics>,
    replica: String,
    local: Mutex<HashMap<String, Arc<LocalJob>>>,
    /// Set by [`Jobs::drain`]: new submits are refused.
    stopping: std::sync::atomic::AtomicBool,
}

impl Jobs {
    pub(crate) fn new(config: JobsConfig, engine: Arc<Engine>, metrics: Arc<Metrics>) -> Self {
        let store = tokio::sync::OnceCell::new();
        if config.store == StoreChoice::Memory {
            let memory: Arc<dyn JobStore> = Arc::new(MemoryStore::new(config.limits));
            let _ = store.set(memory);
        }
        Self {
            config,
            store,
            engine,
            metrics,
            replica: replica_name(),
            local: Mutex::default(),
            stopping: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The settings.
    pub fn config(&self) -> &JobsConfig {
        &self.config
    }

    /// The store, connecting to Redis on first use (and again after a failed attempt).
    pub async fn store(&self) -> Result<&Arc<dyn JobStore>, ApiError> {
        self.store
            .get_or_try_init(|| async {
                match &self.config.store {
                    StoreChoice::Memory => Ok(Arc::new(MemoryStore::new(self.config.limits)) as Arc<dyn JobStore>),
                    StoreChoice::Redis(url) => {
                        let redis = RedisStore::connect(url, self.config.limits)
                            .await
                            .map_err(unavailable)?;
                        tracing::info!(store = %redis.describe(), "job store connected");
                        Ok(Arc::new(redis) as Arc<dyn JobStore>)
                    }
                }
            })
            .await
    }

    fn locals(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<LocalJob>>> {
        self.local.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Submits `request` as a job, under `id` when the client chose one. `body` is the request's
    /// bytes (for the idempotency check), `owner` the digest of the caller's API key.
    pub async fn submit(
        self: &Arc<Self>,
        request: Valid,
        body: &[u8],
        id: Option<String>,
        owner: Option<String>,
    ) -> Result<Submitted, ApiError> {
        if self.is_stopping() {
            return Err(ApiError::ShuttingDown);
        }
        let id = match id {
            Some(id) => {
                check_id(&id)?;
                id
            }
            None => new_id(),
        };
        let store = Arc::clone(self.store().await?);
        let mut record = JobRecord::queued(
            id.clone(),
            owner.clone(),
            digest(body),
            self.replica.clone(),
            random_hex(),
        );
        // Kept with the job, so that any replica can show what was asked (or run it again).
        let request_text = String::from_utf8_lossy(body).into_owned();
        match store.create(record.clone(), request_text).await.map_err(unavailable)? {
            store::Created::Exists(existing) => {
                if existing.owner != owner {
                    return Err(ApiError::JobForbidden(id));
                }
                if existing.request_digest != record.request_digest {
                    return Err(ApiError::JobConflict(id));
                }
                return Ok(Submitted {
                    record: existing,
                    created: false,
                });
            }
            store::Created::New => {}
        }
        let submit = Submit {
            id: Some(RequestId::Given(id.as_str().into())),
            progress: true,
            timeout: Some(self.config.timeout),
        };
        let execution = match self.engine.submit(request, submit) {
            Ok(execution) => execution,
            Err(err) => {
                // The engine refused it (queue full, shutting down): the job never existed.
                let _ = store.delete(&id).await;
                return Err(err.into());
            }
        };
        record.queue_position = Some(execution.queue_position().unwrap_or(0));
        if let Err(err) = store.renew(&id, self.config.lease).await {
            tracing::warn!(job = %id, %err, "could not take the job's lease");
        }
        self.run_local(store, record.clone(), execution);
        Ok(Submitted { record, created: true })
    }

    /// Follows `execution` of the job `record` here, with a driver task, until it ends.
    fn run_local(self: &Arc<Self>, store: Arc<dyn JobStore>, record: JobRecord, execution: crate::engine::Execution) {
        let id = record.id.clone();
        let local = Arc::new(LocalJob::default());
        self.locals().insert(id.clone(), Arc::clone(&local));
        let driver = Driver {
            store,
            record,
            execution,
            local: Arc::clone(&local),
            lease: self.config.lease,
            metrics: Arc::clone(&self.metrics),
            retry_for: self.config.limits.ttl,
        };
        let jobs = Arc::clone(self);
        tokio::spawn(async move {
            let status = driver.run().await;
            let mut locals = jobs.locals();
            // A job submitted again under this id (after a delete) has an entry of its own: keep it.
            if locals.get(&id).is_some_and(|entry| Arc::ptr_eq(entry, &local)) {
                locals.remove(&id);
            }
            drop(locals);
            tracing::info!(job = %id, ?status, "job ended");
        });
    }

    /// The job's state, if `owner` may see it. A job left unfinished by a replica whose lease expired
    /// is marked failed here, by whichever replica looks first.
    pub async fn state(&self, id: &str, owner: Option<&str>) -> Result<JobRecord, ApiError> {
        let store = self.store().await?;
        let record = store
            .get(id)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| ApiError::JobNotFound(id.to_owned()))?;
        if record.owner.as_deref() != owner {
            return Err(ApiError::JobForbidden(id.to_owned()));
        }
        self.checked(store, record).await
    }

    /// The request body the job was submitted with, if `owner` may see the job (the same rule as
    /// [`Jobs::state`]); `None` for a job stored without one.
    pub async fn request_body(&self, id: &str, owner: Option<&str>) -> Result<Option<serde_json::Value>, ApiError> {
        self.state(id, owner).await?;
        let store = self.store().await?;
        let Some(text) = store.request(id).await.map_err(unavailable)? else {
            return Ok(None);
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| ApiError::Internal(format!("the stored request of job `{id}` is not JSON: {e}")))
    }

    /// `record`, or, when it is unfinished, not run here and its lease has expired, the record marked
    /// lost; a handed-back job unclaimed past its bound is failed `handoff_timeout`.
    async fn checked(&self, store: &Arc<dyn JobStore>, record: JobRecord) -> Result<JobRecord, ApiError> {
        let id = record.id.as_str();
        if record.status.is_terminal() || self.locals().contains_key(id) {
            return Ok(record);
        }
        // A handed-back job waits without a lease for another replica to claim it, for a bound.
        if handback::waiting(&record) {
            if self.unclaimed_too_long(&record) {
                return Ok(self.end_unclaimed(store, record, false).await);
            }
            return Ok(record);
        }
        // A job just created may not hold its lease yet.
        let young = record::now_ms().saturating_sub(record.created_ms) < self.config.lease.as_millis() as u64;
        if young || store.leased(id).await.map_err(unavailable)? {
            return Ok(record);
        }
        Ok(self.mark_lost(store, record).await)
    }

    async fn mark_lost(&self, store: &Arc<dyn JobStore>, mut record: JobRecord) -> JobRecord {
        let failure = easymlserve_core::JobFailure {
            body: easymlserve_core::ErrorBody {
                error: format!(
                    "the replica running job `{}` stopped: its lease expired before the job ended",
                    record.id
                ),
                error_type: "job_lost".to_owned(),
                field: None,
            },
            status: 500,
        };
        let event = record.end(JobStatus::Failed, Err(failure));
        match store.update(record.clone(), Some(event)).await {
            Ok(true) => {
                tracing::warn!(job = %record.id, replica = %record.replica, "job lost with its replica; marked failed");
                self.metrics.record_job("failed");
                record
            }
            // Someone else wrote first: read what they wrote.
            _ => store.get(&record.id).await.ok().flatten().unwrap_or(record),
        }
    }

    /// Every lease period: claims and runs the jobs stopping replicas handed back, and marks the
    /// unfinished jobs of replicas whose lease expired as failed, so a dead replica's jobs end (and stop
    /// counting against the bounds) even when nobody reads them. While the model loads it looks more
    /// often, so jobs waiting when this replica starts are claimed as soon as it can run them.
    /// Ends with the server (it holds the jobs weakly).
    pub(crate) fn spawn_reaper(self: &Arc<Self>) {
        let jobs = Arc::downgrade(self);
        let every = self.config.lease;
        tokio::spawn(async move {
            let mut loading = true;
            loop {
                tokio::time::sleep(if loading { every.min(STARTUP_POLL) } else { every }).await;
                let Some(jobs) = jobs.upgrade() else { return };
                loading = jobs.engine.readiness() == crate::engine::Readiness::Loading;
                jobs.claim_handed_back().await;
                let Ok(store) = jobs.store().await.map(Arc::clone) else {
                    continue;
                };
                let Ok(ids) = store.unfinished().await else { continue };
                for id in ids {
                    if let Ok(Some(record)) = store.get(&id).await {
                        let _ = jobs.checked(&store, record).await;
                    }
                }
            }
        });
    }

    /// Cancels the job: at once when this replica runs it, else through the store. Returns its state.
    pub async fn cancel(&self, id: &str, owner: Option<&str>) -> Result<JobRecord, ApiError> {
        let record = self.state(id, owner).await?;
        if record.status.is_terminal() {
            return Ok(record);
        }
        let store = self.store().await?;
        let local = self.locals().get(id).cloned();
        match local {
            Some(local) => {
                local.cancel();
                // The driver writes the canceled state within a moment; answer with it.
                let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
                loop {
                    let now = store.get(id).await.map_err(unavailable)?;
                    match now {
                        Some(record) if record.status.is_terminal() => return Ok(record),
                        None => return Err(ApiError::JobNotFound(id.to_owned())),
                        Some(record) if tokio::time::Instant::now() >= deadline => return Ok(record),
                        Some(record) => store.wait(id, record.last_event, Duration::from_millis(200)).await,
                    }
                }
            }
            None => {
                store.request_cancel(id).await.map_err(unavailable)?;
                // No replica runs a handed-back job waiting to be claimed: end it here, unless one claims
                // it first (then its runner sees the cancel asked above).
                if handback::waiting(&record) {
                    return Ok(self.end_unclaimed(store, record, true).await);
                }
                Ok(record)
            }
        }
    }

    /// Forgets the job, canceling it first if it still runs.
    pub async fn delete(&self, id: &str, owner: Option<&str>) -> Result<(), ApiError> {
        let record = self.state(id, owner).await?;
        let store = self.store().await?;
        if !record.status.is_terminal() {
            let local = self.locals().get(id).cloned();
            match local {
                Some(local) => local.cancel(),
                None => store.request_cancel(id).await.map_err(unavailable)?,
            }
        }
        store.delete(id).await.map_err(unavailable)?;
        Ok(())
    }

    /// The job's events after `after`, waiting up to `wait` for one when there is none yet.
    pub async fn events_after(
        &self,
        id: &str,
        owner: Option<&str>,
        after: u64,
        wait: Duration,
    ) -> Result<(Vec<JobEvent>, JobRecord), ApiError> {
        let record = self.state(id, owner).await?;
        let store = self.store().await?;
        let mut events = store.events(id, after).await.map_err(unavailable)?;
        if events.is_empty() && !record.status.is_terminal() {
            store.wait(id, after, wait).await;
            events = store.events(id, after).await.map_err(unavailable)?;
        }
        Ok((events, record))
    }
}
