//! Hand-back: with a store that replicas share (Redis), a job a stopping replica could not finish goes
//! back to the store, queued, and another replica claims it and runs it again from the request body
//! kept with it, under the same id and owner. Its events go on with the next numbers, so a client
//! following them with `Last-Event-ID` reads one stream: `queued` (requeued) and then the new run's
//! events. A job handed back [`MAX_HANDOFFS`] times fails with `handoff_limit` at the next stop; a
//! replica that claims a job and cannot queue it hands it back too, and that counts.
//! A job no replica claims within [`UNCLAIMED_LEASES`] lease periods fails with `handoff_timeout`, and
//! a cancel of one waiting unclaimed ends it at once: a handed-back job never waits for ever.

use std::sync::Arc;
use std::time::Duration;

use easymlserve_core::{ErrorBody, JobEventKind, JobFailure, JobStatus, RequestId};

use super::Jobs;
use super::record::{JobRecord, now_ms};
use super::store::JobStore;
use crate::engine::{ExecError, Readiness, Submit, Valid};
use crate::ids::random_hex;

/// Most times one job is handed back; a stop after that fails it.
pub(crate) const MAX_HANDOFFS: u32 = 3;

/// Lease periods a handed-back job may wait unclaimed; after that whoever reads or reaps it fails it.
pub(crate) const UNCLAIMED_LEASES: u32 = 3;

/// The message of a job waiting in the store for another replica.
pub(crate) const REQUEUED: &str = "requeued: the replica running it stopped; another replica takes it";

/// The failure of a job stopped once more after [`MAX_HANDOFFS`] hand-backs.
pub(crate) fn handoff_limit() -> JobFailure {
    JobFailure {
        body: ErrorBody {
            error: format!(
                "the server stopped before the job finished, and the job was already handed back to another \
                 replica {MAX_HANDOFFS} times, the most allowed; submit it again"
            ),
            error_type: "handoff_limit".to_owned(),
            field: None,
        },
        status: 503,
    }
}

/// The failure of a handed-back job no replica claimed within `bound`.
fn handoff_timeout(id: &str, bound: Duration) -> JobFailure {
    JobFailure {
        body: ErrorBody {
            error: format!(
                "the replica running job `{id}` stopped and handed it back, but no other replica claimed it within \
                 {:.1} s ({UNCLAIMED_LEASES} lease periods): none was running and ready, or their queues were full; \
                 submit it again",
                bound.as_secs_f64()
            ),
            error_type: "handoff_timeout".to_owned(),
            field: None,
        },
        status: 503,
    }
}

/// Whether `record` waits in the store, handed back, for a replica to claim it.
pub(crate) fn waiting(record: &JobRecord) -> bool {
    record.handed_back && record.status == JobStatus::Queued
}

/// `record` made ready to go back to the store: queued, handed back, with a new run and the number of
/// its `queued` event. Returns the run it had, which the store checks.
pub(crate) fn requeue(record: &mut JobRecord) -> (String, easymlserve_core::JobEvent) {
    let expected = std::mem::replace(&mut record.run, random_hex());
    record.status = JobStatus::Queued;
    record.queue_position = Some(0);
    record.started_ms = None;
    record.progress = None;
    record.eta_s = None;
    REQUEUED.clone_into(&mut record.message);
    record.handed_back = true;
    record.handed_back_ms = Some(now_ms());
    record.last_event += 1;
    let event = easymlserve_core::JobEvent {
        id: record.last_event,
        kind: JobEventKind::Queued { position: 0 },
    };
    (expected, event)
}

impl Jobs {
    /// Claims the jobs other replicas handed back and runs them here; returns how many. Nothing while
    /// this server stops, before its model is loaded, or with a store no other replica shares.
    pub(crate) async fn claim_handed_back(self: &Arc<Self>) -> usize {
        if self.is_stopping() || self.engine.readiness() != Readiness::Ready {
            return 0;
        }
        let Ok(store) = self.store().await.map(Arc::clone) else {
            return 0;
        };
        if !store.shared() {
            return 0;
        }
        let Ok(ids) = store.unfinished().await else { return 0 };
        let mut claimed = 0;
        for id in ids {
            let Ok(Some(record)) = store.get(&id).await else {
                continue;
            };
            if waiting(&record) && !self.locals().contains_key(&id) && self.claim(&store, record).await {
                claimed += 1;
            }
        }
        claimed
    }

    /// Takes one handed-back job and runs it; false when another replica was first.
    async fn claim(self: &Arc<Self>, store: &Arc<dyn JobStore>, record: JobRecord) -> bool {
        let id = record.id.clone();
        let request = match store.request(&id).await {
            Ok(request) => request,
            Err(_) => return false,
        };
        let valid = self.revalidate(&id, request);
        let expected = record.run.clone();
        let mut mine = record;
        mine.handed_back = false;
        mine.replica.clone_from(&self.replica);
        mine.run = random_hex();
        match store.claim(mine.clone(), &expected, self.config.lease).await {
            Ok(true) => {}
            Ok(false) => return false,
            Err(err) => {
                tracing::warn!(job = %id, %err, "could not claim a handed-back job");
                return false;
            }
        }
        let valid = match valid {
            Ok(valid) => valid,
            Err(failure) => {
                let event = mine.end(JobStatus::Failed, Err(failure));
                let _ = store.update(mine, Some(event)).await;
                self.metrics.record_job("failed");
                return true;
            }
        };
        let submit = Submit {
            id: Some(RequestId::Given(id.as_str().into())),
            progress: true,
            timeout: Some(self.config.timeout),
        };
        match self.engine.submit(valid, submit) {
            Ok(execution) => {
                tracing::info!(job = %id, handoffs = mine.handoffs, "claimed a handed-back job");
                self.run_local(Arc::clone(store), mine, execution);
            }
            Err(err) => {
                // The queue is full or this server began to stop: back to the store for someone else. That
                // counts as a hand-back, so replicas with full queues cannot pass a job round for ever.
                if mine.handoffs >= MAX_HANDOFFS {
                    tracing::warn!(job = %id, %err, "could not run a claimed job handed back too often; failing it");
                    let event = mine.end(JobStatus::Failed, Err(handoff_limit()));
                    if let Ok(true) = store.update(mine, Some(event)).await {
                        self.metrics.record_job("failed");
                    }
                } else {
                    tracing::warn!(job = %id, %err, "could not run a claimed job; handing it back");
                    mine.handoffs += 1;
                    let (expected, event) = requeue(&mut mine);
                    let _ = store.hand_back(mine, event, &expected).await;
                }
            }
        }
        true
    }

    /// How long a handed-back job may wait unclaimed.
    fn unclaimed_bound(&self) -> Duration {
        self.config.lease * UNCLAIMED_LEASES
    }

    /// Whether `record`, handed back, has waited unclaimed longer than the bound.
    pub(crate) fn unclaimed_too_long(&self, record: &JobRecord) -> bool {
        let since = record.handed_back_ms.unwrap_or(record.created_ms);
        let bound = u64::try_from(self.unclaimed_bound().as_millis()).unwrap_or(u64::MAX);
        waiting(record) && now_ms().saturating_sub(since) > bound
    }

    /// Ends a handed-back job nobody claimed: failed with `handoff_timeout` past the bound, or canceled
    /// when its owner asks. One store step that checks the run it was handed back with, so of this and
    /// a replica claiming it at the same moment only one wins. Returns the job's state after.
    pub(crate) async fn end_unclaimed(
        &self,
        store: &Arc<dyn JobStore>,
        mut record: JobRecord,
        cancel: bool,
    ) -> JobRecord {
        let (status, failure, label) = if cancel {
            (JobStatus::Canceled, super::driver::canceled(), "canceled")
        } else {
            (
                JobStatus::Failed,
                handoff_timeout(&record.id, self.unclaimed_bound()),
                "failed",
            )
        };
        record.handed_back = false;
        let event = record.end(status, Err(failure));
        match store.update(record.clone(), Some(event)).await {
            Ok(true) => {
                tracing::warn!(job = %record.id, status = label, "handed-back job ended unclaimed");
                self.metrics.record_job(label);
                record
            }
            // A replica claimed it first (or it is gone): read what is there now.
            _ => store.get(&record.id).await.ok().flatten().unwrap_or(record),
        }
    }

    /// The kept request body as a request the engine takes again, or why the job cannot run.
    fn revalidate(&self, id: &str, request: Option<String>) -> Result<Valid, JobFailure> {
        let internal = |why: String| super::driver::failure_of(ExecError::Internal(why));
        let text = request.ok_or_else(|| internal(format!("job `{id}` was handed back without its request")))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| internal(format!("the kept request of job `{id}` is not JSON: {e}")))?;
        self.engine.validate(value).map_err(super::driver::failure_of)
    }
}
