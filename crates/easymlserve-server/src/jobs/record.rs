//! `JobRecord`: a job's state as the store keeps it (with what callers never see: the owner's key
//! digest, the request digest for idempotent retries, the replica that runs it), and its public form.

use std::time::{SystemTime, UNIX_EPOCH};

use easymlserve_core::{JobEvent, JobEventKind, JobFailure, JobState, JobStatus};
use serde::{Deserialize, Serialize};

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The job's id.
    pub id: String,
    /// Where it is.
    pub status: JobStatus,
    /// Requests ahead of it while queued.
    pub queue_position: Option<u64>,
    /// The last reported fraction.
    pub progress: Option<f64>,
    /// The last reported message.
    pub message: String,
    /// The last estimate of seconds left.
    pub eta_s: Option<f64>,
    /// Milliseconds since the Unix epoch when it was submitted.
    pub created_ms: u64,
    /// ... when a worker started on it.
    pub started_ms: Option<u64>,
    /// ... when it ended.
    pub finished_ms: Option<u64>,
    /// The response, once it succeeded.
    pub result: Option<serde_json::Value>,
    /// Why it failed or was canceled.
    pub error: Option<JobFailure>,
    /// The SHA-256 (hex) of the API key that submitted it; `None` when keys are off.
    pub owner: Option<String>,
    /// The SHA-256 (hex) of the request body, so a retried `PUT` with another body is refused.
    pub request_digest: String,
    /// The replica that runs it (host name and process id).
    pub replica: String,
    /// The number of its last event.
    pub last_event: u64,
    /// A token of this run of the job: a write from an earlier job with the same id (deleted, then
    /// submitted again) carries another token and is refused.
    #[serde(default)]
    pub run: String,
    /// How many times a stopping replica handed the job back to the store.
    #[serde(default)]
    pub handoffs: u32,
    /// Whether it waits in the store, handed back, for another replica to claim it.
    #[serde(default)]
    pub handed_back: bool,
    /// Milliseconds since the Unix epoch when it was last handed back, so a job no replica claims can be
    /// failed after a bound instead of waiting for ever.
    #[serde(default)]
    pub handed_back_ms: Option<u64>,
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn rfc3339(ms: u64) -> String {
    let ms = i64::try_from(ms).unwrap_or(i64::MAX);
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

impl JobRecord {
    /// A queued job submitted now.
    pub fn queued(id: String, owner: Option<String>, request_digest: String, replica: String, run: String) -> Self {
        Self {
            id,
            status: JobStatus::Queued,
            queue_position: None,
            progress: None,
            message: String::new(),
            eta_s: None,
            created_ms: now_ms(),
            started_ms: None,
            finished_ms: None,
            result: None,
            error: None,
            owner,
            request_digest,
            replica,
            last_event: 0,
            run,
            handoffs: 0,
            handed_back: false,
            handed_back_ms: None,
        }
    }

    /// The state callers see.
    pub fn public(&self) -> JobState {
        JobState {
            id: self.id.clone(),
            status: self.status,
            queue_position: self.queue_position,
            progress: self.progress,
            message: self.message.clone(),
            eta_s: self.eta_s,
            created_at: rfc3339(self.created_ms),
            started_at: self.started_ms.map(rfc3339),
            finished_at: self.finished_ms.map(rfc3339),
            result: self.result.clone(),
            error: self.error.clone(),
        }
    }

    /// Ends the job with `status` and its outcome (the response, or why there is none), and returns the
    /// terminal event that says so. A success also sets the progress to done.
    pub fn end(&mut self, status: JobStatus, outcome: Result<serde_json::Value, JobFailure>) -> JobEvent {
        self.status = status;
        self.queue_position = None;
        self.finished_ms = Some(now_ms());
        let kind = match outcome {
            Ok(value) => {
                self.result = Some(value.clone());
                self.progress = Some(1.0);
                self.eta_s = Some(0.0);
                JobEventKind::Result(value)
            }
            Err(failure) => {
                self.error = Some(failure.clone());
                JobEventKind::Error(failure)
            }
        };
        self.last_event += 1;
        JobEvent {
            id: self.last_event,
            kind,
        }
    }

    /// Bytes this record takes in a store (its JSON), for the store's byte bound.
    pub fn size(&self) -> usize {
        serde_json::to_vec(self).map_or(0, |v| v.len())
    }
}
