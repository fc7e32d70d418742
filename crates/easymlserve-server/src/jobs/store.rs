//! `JobStore`: where jobs, their events and their leases live, so that any replica can answer for a job
//! another one runs. The replica that runs a job is the only writer of its state and events; other
//! replicas read, ask for a cancel, delete, mark the job failed once its lease has expired, or claim
//! it once its runner handed it back.
//! Two stores exist: one in memory (one process, the default) and one in Redis (`--job-store redis://`).

use std::time::Duration;

use easymlserve_core::{BoxFuture, JobEvent};

use super::record::JobRecord;

/// Bounds on what a store keeps; over them new jobs are refused with 503 and `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most jobs kept at once, running or finished.
    pub max_jobs: usize,
    /// Most bytes of job state, request bodies, results and events kept at once.
    pub max_bytes: usize,
    /// How long a finished job is kept.
    pub ttl: Duration,
    /// Most events kept per job; the oldest are dropped first, so the terminal one (the newest) is kept.
    pub max_events: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_jobs: 1000,
            max_bytes: 256 * 1024 * 1024,
            ttl: Duration::from_secs(3600),
            max_events: 256,
        }
    }
}

/// Why the store did not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A bound is reached: no new job until finished ones expire or are deleted.
    #[error("the job store is full: {0}")]
    Full(String),
    /// The store cannot be reached (Redis is down); the detail is for the log and the caller.
    #[error("the job store is unavailable: {0}")]
    Unavailable(String),
}

/// What `create` found.
#[derive(Debug, Clone, PartialEq)]
#[allow(
    clippy::large_enum_variant,
    reason = "made once per submitted job; a box would buy nothing"
)]
pub enum Created {
    /// The job is new and stored.
    New,
    /// A job with that id exists already (a retried `PUT`): its record.
    Exists(JobRecord),
}

/// The store of jobs. Every method is one atomic step of the store.
pub trait JobStore: Send + Sync + 'static {
    /// What it is, for the log (`memory`, `redis://host:port`).
    fn describe(&self) -> String;

    /// Stores a new job with its request body (JSON text, counted in the byte bound, kept as long as
    /// the job), or returns the existing one with the same id. Fails with [`StoreError::Full`] when a
    /// bound is reached (finished jobs past their time-to-live are dropped first).
    fn create(&self, record: JobRecord, request: String) -> BoxFuture<'_, Result<Created, StoreError>>;

    /// The request body the job was created with, if the job exists.
    fn request<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>>;

    /// Writes a job's new state and, when given, its next event, unless the job is gone or already
    /// over (its terminal state is final). Returns whether it wrote. A terminal state starts the
    /// job's time-to-live.
    fn update(&self, record: JobRecord, event: Option<JobEvent>) -> BoxFuture<'_, Result<bool, StoreError>>;

    /// The job's state, if it exists.
    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>>;

    /// The job's kept events numbered above `after`, oldest first.
    fn events<'a>(&'a self, id: &'a str, after: u64) -> BoxFuture<'a, Result<Vec<JobEvent>, StoreError>>;

    /// Returns when the job may have an event numbered above `after`, or after `timeout`.
    fn wait<'a>(&'a self, id: &'a str, after: u64, timeout: Duration) -> BoxFuture<'a, ()>;

    /// Forgets the job, its events and its lease; returns whether it existed.
    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Asks the replica that runs the job to cancel it.
    fn request_cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Renews this replica's lease on a job it runs, for `lease`; returns whether a cancel was asked.
    fn renew<'a>(&'a self, id: &'a str, lease: Duration) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// The ids of jobs not yet over, for the reaper that marks a dead replica's jobs lost. A store in
    /// memory is one process, whose jobs end with it: none.
    fn unfinished(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Whether some replica holds the job's lease. A store in memory is one process: always true.
    fn leased<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Whether other replicas share this store, so that a stopping replica hands its unfinished jobs
    /// back rather than failing them. A store in memory is one process: no.
    fn shared(&self) -> bool {
        false
    }

    /// Gives a job this replica stops back to the store: unless the job is gone, over or of another run
    /// than `expected`, writes `record` (queued, handed back, with a new run), appends `event` and drops
    /// the lease. Returns whether it wrote. A store no other replica shares never does.
    fn hand_back<'a>(
        &'a self,
        record: JobRecord,
        event: JobEvent,
        expected: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let _ = (record, event, expected);
        Box::pin(async { Ok(false) })
    }

    /// Claims a handed-back job for this replica: only while it is queued, handed back, of run
    /// `expected` and nobody holds its lease, writes `record` (with the claimer's new run) and takes the
    /// lease for `lease`. Returns whether it did; of replicas racing for a job, one wins.
    fn claim<'a>(
        &'a self,
        record: JobRecord,
        expected: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let _ = (record, expected, lease);
        Box::pin(async { Ok(false) })
    }
}
