//! The task that follows one job this replica runs: it turns the engine's execution into the job's
//! state and numbered events in the store (queued with its position, started, progress at most every
//! tenth of a second, then exactly one result or error), renews the job's lease, and cancels the job
//! when asked here or, through the store, by another replica. When the server stops it fails the job, or
//! with a shared store hands it back for another replica.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use easymlserve_core::{JobEvent, JobEventKind, JobFailure, JobStatus, ProgressReport};
use tokio::sync::Notify;

use super::handback::{MAX_HANDOFFS, handoff_limit, requeue};
use super::record::{JobRecord, now_ms};
use super::store::{JobStore, StoreError};
use crate::engine::{Event, ExecError, Execution};
use crate::error::ApiError;
use crate::metrics::Metrics;

/// Shortest time between two progress writes to the store; reports in between are merged.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// How often the queue position and the start are looked at.
const TICK: Duration = Duration::from_millis(100);

/// A job this replica runs: how to ask its driver to cancel it.
#[derive(Debug, Default)]
pub(crate) struct LocalJob {
    cancel: AtomicBool,
    /// Set with `cancel` when the server stops: the job ends with `shutting_down`, not `canceled`.
    shutdown: AtomicBool,
    /// Set with `cancel` when the server stops and the store is shared: the job goes back to the store.
    hand_back: AtomicBool,
    /// Set by the driver once the job is back in the store.
    handed_back: AtomicBool,
    wake: Notify,
}

impl LocalJob {
    pub(crate) fn cancel(&self) {
        self.cancel.store(true, Ordering::Release);
        self.wake.notify_one();
    }

    /// Stops the job because the server stops. An owner's cancel that came first still wins.
    pub(crate) fn stop_for_shutdown(&self) {
        if !self.cancel.load(Ordering::Acquire) {
            self.shutdown.store(true, Ordering::Release);
        }
        self.cancel();
    }

    /// Stops the job because the server stops, for another replica to run it. An owner's cancel that
    /// came first still wins.
    pub(crate) fn hand_back_for_shutdown(&self) {
        if !self.cancel.load(Ordering::Acquire) {
            self.hand_back.store(true, Ordering::Release);
        }
        self.cancel();
    }

    fn wants_hand_back(&self) -> bool {
        self.hand_back.load(Ordering::Acquire)
    }

    /// Whether the driver gave the job back to the store.
    pub(crate) fn was_handed_back(&self) -> bool {
        self.handed_back.load(Ordering::Acquire)
    }

    fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    async fn cancelled(&self) {
        while !self.cancel.load(Ordering::Acquire) {
            self.wake.notified().await;
        }
    }
}

/// The failure a caller sees for `err`: the REST error body and the status `POST /process` answers.
pub(crate) fn failure_of(err: ExecError) -> JobFailure {
    let api = ApiError::from(err);
    JobFailure {
        body: api.body(),
        status: api.status().as_u16(),
    }
}

/// The failure of a canceled job.
pub(crate) fn canceled() -> JobFailure {
    JobFailure {
        body: easymlserve_core::ErrorBody {
            error: "the job was canceled".to_owned(),
            error_type: "canceled".to_owned(),
            field: None,
        },
        status: 409,
    }
}

/// The failure of a job the server stopped before it finished (memory store, or Redis past its
/// hand-back limit).
pub(crate) fn shutting_down() -> JobFailure {
    JobFailure {
        body: easymlserve_core::ErrorBody {
            error: "the server stopped before the job finished; submit it again".to_owned(),
            error_type: "shutting_down".to_owned(),
            field: None,
        },
        status: 503,
    }
}

/// Everything one driver needs.
pub(crate) struct Driver {
    pub store: Arc<dyn JobStore>,
    pub record: JobRecord,
    pub execution: Execution,
    pub local: Arc<LocalJob>,
    pub lease: Duration,
    pub metrics: Arc<Metrics>,
    /// How long a terminal write keeps being retried while the store is down.
    pub retry_for: Duration,
}

enum Step {
    Event(Option<Event>),
    Cancel,
    Tick,
}

impl Driver {
    /// Runs until the job ends (or is deleted); returns its final status.
    pub(crate) async fn run(mut self) -> JobStatus {
        let mut started: Option<Instant> = None;
        let mut pending: Option<ProgressReport> = None;
        let mut last_progress = Instant::now() - PROGRESS_EVERY;
        let mut next_renew = Instant::now();
        let renew_every = self.lease / 3;
        // Every job starts queued, even one a worker took at once (position 0).
        let position = self.execution.queue_position().unwrap_or(0);
        self.record.queue_position = Some(position);
        if !self.emit(JobEventKind::Queued { position }).await {
            return self.record.status;
        }
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let step = tokio::select! {
                biased;
                () = self.local.cancelled() => Step::Cancel,
                // Before the events: a model reporting progress without pause must not starve the
                // lease renewal (the tick is ready only every 100 ms, so it cannot starve the events).
                _ = tick.tick() => Step::Tick,
                event = self.execution.next() => Step::Event(event),
            };
            match step {
                Step::Cancel if self.local.wants_hand_back() => return self.hand_back().await,
                Step::Cancel if self.local.is_shutdown() => {
                    return self.finish(Outcome::Failed(shutting_down())).await;
                }
                Step::Cancel => return self.finish(Outcome::Canceled).await,
                Step::Event(Some(Event::Progress(p))) => {
                    if !self.start(&mut started).await {
                        return self.record.status;
                    }
                    let elapsed = started.map_or(0.0, |t| t.elapsed().as_secs_f64());
                    pending = Some(ProgressReport::new(p.fraction, p.message, elapsed));
                    if last_progress.elapsed() >= PROGRESS_EVERY && !self.flush(&mut pending, &mut last_progress).await
                    {
                        return self.record.status;
                    }
                }
                Step::Event(Some(Event::Result(bytes))) => {
                    let alive = self.start(&mut started).await && self.flush(&mut pending, &mut last_progress).await;
                    if !alive {
                        return self.record.status;
                    }
                    let value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
                    return self.finish(Outcome::Succeeded(value)).await;
                }
                Step::Event(Some(Event::Error(err))) => {
                    if err == ExecError::Cancelled && self.local.wants_hand_back() {
                        return self.hand_back().await;
                    }
                    if !self.flush(&mut pending, &mut last_progress).await {
                        return self.record.status;
                    }
                    let outcome = if err == ExecError::Cancelled && self.local.is_shutdown() {
                        Outcome::Failed(shutting_down())
                    } else if err == ExecError::Cancelled {
                        Outcome::Canceled
                    } else {
                        Outcome::Failed(failure_of(err))
                    };
                    return self.finish(outcome).await;
                }
                Step::Event(None) => {
                    let lost = ExecError::Internal("the execution ended without an outcome".to_owned());
                    return self.finish(Outcome::Failed(failure_of(lost))).await;
                }
                Step::Tick => {
                    if started.is_none() {
                        if self.execution.has_started() {
                            if !self.start(&mut started).await {
                                return self.record.status;
                            }
                        } else if let Some(position) = self.execution.queue_position()
                            && self.record.queue_position != Some(position)
                        {
                            self.record.queue_position = Some(position);
                            if !self.emit(JobEventKind::Queued { position }).await {
                                return self.record.status;
                            }
                        }
                    }
                    if pending.is_some()
                        && last_progress.elapsed() >= PROGRESS_EVERY
                        && !self.flush(&mut pending, &mut last_progress).await
                    {
                        return self.record.status;
                    }
                    if Instant::now() >= next_renew {
                        next_renew = Instant::now() + renew_every;
                        match self.store.renew(&self.record.id, self.lease).await {
                            Ok(true) => return self.finish(Outcome::Canceled).await,
                            Ok(false) => {}
                            Err(err) => tracing::warn!(job = %self.record.id, %err, "could not renew the job's lease"),
                        }
                    }
                }
            }
        }
    }

    /// Marks the job running (once); false when the job is gone.
    async fn start(&mut self, started: &mut Option<Instant>) -> bool {
        if started.is_some() {
            return true;
        }
        *started = Some(Instant::now());
        self.record.status = JobStatus::Running;
        self.record.queue_position = None;
        self.record.started_ms = Some(now_ms());
        self.emit(JobEventKind::Started {}).await
    }

    /// Writes the merged progress report, if any; false when the job is gone.
    async fn flush(&mut self, pending: &mut Option<ProgressReport>, last: &mut Instant) -> bool {
        let Some(report) = pending.take() else { return true };
        *last = Instant::now();
        self.record.progress = report.fraction;
        self.record.message.clone_from(&report.message);
        self.record.eta_s = report.eta_s;
        self.emit(JobEventKind::Progress(report)).await
    }

    /// Numbers and stores one event with the state; false when the job is gone or already over
    /// (deleted, or marked lost by another replica). A store that is down loses the event, not the job.
    async fn emit(&mut self, kind: JobEventKind) -> bool {
        self.record.last_event += 1;
        let event = JobEvent {
            id: self.record.last_event,
            kind,
        };
        match self.store.update(self.record.clone(), Some(event)).await {
            Ok(written) => written,
            Err(err) => {
                tracing::warn!(job = %self.record.id, %err, "could not store a job event");
                true
            }
        }
    }

    /// Stops the job here and gives it back to the store, queued, for another replica; a job handed
    /// back [`MAX_HANDOFFS`] times already fails with `handoff_limit` instead.
    async fn hand_back(mut self) -> JobStatus {
        if self.record.handoffs >= MAX_HANDOFFS {
            return self.finish(Outcome::Failed(handoff_limit())).await;
        }
        self.record.handoffs += 1;
        let (expected, event) = requeue(&mut self.record);
        let Self {
            store,
            record,
            execution,
            local,
            ..
        } = self;
        // Dropping the execution cancels the request here, as a stop without hand-back does.
        drop(execution);
        match store.hand_back(record.clone(), event, &expected).await {
            Ok(true) => {
                local.handed_back.store(true, Ordering::Release);
                tracing::info!(job = %record.id, handoffs = record.handoffs, "job handed back for another replica");
            }
            Ok(false) => tracing::info!(job = %record.id, "job not handed back: it is gone or over"),
            Err(err) => tracing::warn!(
                job = %record.id,
                %err,
                "could not hand the job back; it fails as lost once its lease expires"
            ),
        }
        JobStatus::Queued
    }

    async fn finish(mut self, outcome: Outcome) -> JobStatus {
        let (status, outcome, label) = match outcome {
            Outcome::Succeeded(value) => (JobStatus::Succeeded, Ok(value), "succeeded"),
            Outcome::Failed(failure) => (JobStatus::Failed, Err(failure), "failed"),
            Outcome::Canceled => (JobStatus::Canceled, Err(canceled()), "canceled"),
        };
        let event = self.record.end(status, outcome);
        let Self {
            store,
            record,
            execution,
            metrics,
            retry_for,
            ..
        } = self;
        // Dropping the execution sets the cancellation flag of a request still queued or running.
        drop(execution);
        metrics.record_job(label);
        write_terminal(&*store, record, event, retry_for).await;
        status
    }
}

enum Outcome {
    Succeeded(serde_json::Value),
    Failed(JobFailure),
    Canceled,
}

/// Writes the terminal state, retrying while the store is unavailable, so a result is not lost to a
/// short store outage.
async fn write_terminal(store: &dyn JobStore, record: JobRecord, event: JobEvent, retry_for: Duration) {
    let give_up = Instant::now() + retry_for;
    let mut pause = Duration::from_millis(200);
    loop {
        match store.update(record.clone(), Some(event.clone())).await {
            Ok(_) => return,
            Err(StoreError::Full(reason) | StoreError::Unavailable(reason)) => {
                if Instant::now() >= give_up {
                    tracing::error!(job = %record.id, %reason, "gave up storing the job's outcome");
                    return;
                }
                tracing::warn!(job = %record.id, %reason, "could not store the job's outcome yet; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
        }
    }
}
