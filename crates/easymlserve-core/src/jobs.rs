//! Jobs on the wire: the events of one long-running request (queued, started, progress, then exactly one
//! result or error) and the state `GET /jobs/{id}` reports, shared by the server, the Rust client and both
//! GUIs so they read the same JSON. [`JobCaller`] is how a GUI submits a job and follows it, whether the
//! service runs in its own process or behind REST.

use serde::{Deserialize, Serialize};

use crate::{BoxFuture, CallError, ErrorBody};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for a worker.
    Queued,
    /// A worker runs it.
    Running,
    /// It answered; `result` holds the response.
    Succeeded,
    /// It failed; `error` says why.
    Failed,
    /// It was canceled before it finished.
    Canceled,
}

impl JobStatus {
    /// Whether the job is over (succeeded, failed or canceled).
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Canceled)
    }
}

/// Why a job (or a streamed request) has no result: the usual error body and the HTTP status
/// `POST /process` would have answered with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JobFailure {
    /// The error in the REST error shape.
    #[serde(flatten)]
    pub body: ErrorBody,
    /// The status `POST /process` would have answered.
    pub status: u16,
}

/// A progress report as events and job state carry it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProgressReport {
    /// The finished share, 0 to 1, when the model knows it.
    pub fraction: Option<f64>,
    /// What the model is doing.
    pub message: String,
    /// Seconds since the model started on the request.
    pub elapsed_s: f64,
    /// Estimated seconds left, from the elapsed time and the fraction (only once a fraction is known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta_s: Option<f64>,
}

impl ProgressReport {
    /// A report of `fraction` and `message` after `elapsed_s` seconds, with the ETA that follows.
    pub fn new(fraction: Option<f64>, message: String, elapsed_s: f64) -> Self {
        let eta_s = fraction
            .filter(|f| *f > 0.0 && *f <= 1.0)
            .map(|f| (elapsed_s * (1.0 - f) / f).max(0.0));
        Self {
            fraction,
            message,
            elapsed_s,
            eta_s,
        }
    }
}

/// What happened, as the SSE event's name (`event:`) and data (`data:`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data", rename_all = "snake_case")]
pub enum JobEventKind {
    /// Waiting; `position` requests are ahead of it (0: it is next).
    Queued {
        /// Requests ahead in the queue.
        position: u64,
    },
    /// A worker started on it.
    Started {},
    /// The model reported progress.
    Progress(ProgressReport),
    /// The response, as `POST /process` returns it: the last event.
    Result(serde_json::Value),
    /// Why there is no response (a canceled job has `error_type` `canceled`): the last event.
    Error(JobFailure),
}

impl JobEventKind {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Queued { .. } => "queued",
            Self::Started {} => "started",
            Self::Progress(_) => "progress",
            Self::Result(_) => "result",
            Self::Error(_) => "error",
        }
    }

    /// The SSE data: the JSON after `data:`.
    pub fn data(&self) -> serde_json::Value {
        match self {
            Self::Queued { position } => serde_json::json!({ "position": position }),
            Self::Started {} => serde_json::json!({}),
            Self::Progress(report) => serde_json::to_value(report).unwrap_or_default(),
            Self::Result(value) => value.clone(),
            Self::Error(failure) => serde_json::to_value(failure).unwrap_or_default(),
        }
    }

    /// The event from its SSE name and data; `None` for an unknown name or data of the wrong shape.
    pub fn from_sse(name: &str, data: &str) -> Option<Self> {
        let data: serde_json::Value = serde_json::from_str(data).ok()?;
        serde_json::from_value(serde_json::json!({ "event": name, "data": data })).ok()
    }

    /// Whether this is the last event (result or error).
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Result(_) | Self::Error(_))
    }
}

/// One event of a job, numbered from 1 in the order it happened (the SSE `id:`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobEvent {
    /// The event's number within its job.
    pub id: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: JobEventKind,
}

/// The state of one job, as `GET /jobs/{id}` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct JobState {
    /// The job's id.
    pub id: String,
    /// Where it is.
    pub status: JobStatus,
    /// Requests ahead of it while it is queued (0: it is next); `None` otherwise.
    pub queue_position: Option<u64>,
    /// The finished share, 0 to 1, of the model's last report.
    pub progress: Option<f64>,
    /// The model's last message.
    pub message: String,
    /// Estimated seconds left, from the last report.
    pub eta_s: Option<f64>,
    /// When it was submitted (RFC 3339).
    pub created_at: String,
    /// When a worker started on it.
    pub started_at: Option<String>,
    /// When it ended.
    pub finished_at: Option<String>,
    /// The response, once it succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<serde_json::Value>,
    /// Why it failed or was canceled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<JobFailure>,
}

/// Submits requests as jobs and follows them; what a GUI needs for progress and cancel.
pub trait JobCaller: Send + Sync {
    /// Submits `request` as a job and returns its id.
    fn submit(&self, request: serde_json::Value) -> BoxFuture<'_, Result<String, CallError>>;

    /// The job's events after event number `after` (0: from the start). Waits a while for one when
    /// there is none yet; an empty list means nothing happened meanwhile, so ask again.
    fn events_after<'a>(&'a self, id: &'a str, after: u64) -> BoxFuture<'a, Result<Vec<JobEvent>, CallError>>;

    /// Asks for the job to be canceled.
    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), CallError>>;

    /// The request the job was submitted with, as JSON, so a GUI can show a job another replica took;
    /// `Ok(None)` when the caller cannot tell (the default, and a client over HTTP) or the job was
    /// stored without it. A missing job, or one submitted with another key, is an error as for its state.
    fn request<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<serde_json::Value>, CallError>> {
        let _ = id;
        Box::pin(async { Ok(None) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_through_their_sse_name_and_data() {
        let events = [
            JobEventKind::Queued { position: 3 },
            JobEventKind::Started {},
            JobEventKind::Progress(ProgressReport::new(Some(0.25), "tile 1 of 4".into(), 2.0)),
            JobEventKind::Result(serde_json::json!({"echo": [1, 2]})),
            JobEventKind::Error(JobFailure {
                body: ErrorBody {
                    error: "gone".into(),
                    error_type: "canceled".into(),
                    field: None,
                },
                status: 409,
            }),
        ];
        for event in events {
            let data = event.data().to_string();
            assert_eq!(JobEventKind::from_sse(event.name(), &data), Some(event));
        }
        assert_eq!(JobEventKind::from_sse("nonsense", "{}"), None);
    }

    #[test]
    fn the_eta_follows_from_the_fraction_and_the_elapsed_time() {
        assert_eq!(ProgressReport::new(Some(0.25), String::new(), 3.0).eta_s, Some(9.0));
        assert_eq!(ProgressReport::new(None, String::new(), 3.0).eta_s, None);
        assert_eq!(ProgressReport::new(Some(0.0), String::new(), 3.0).eta_s, None);
    }
}
