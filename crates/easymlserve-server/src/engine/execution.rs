//! `Execution`: one submitted request seen from the caller's side, as a stream of events: progress
//! reports, then exactly one result or error. Dropping it before the end cancels the request; its
//! deadline passing cancels it too and ends the stream with a timeout.

use std::time::Duration;

use bytes::Bytes;
use easymlserve_core::{Progress, RequestId};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::error::ExecError;
use super::job::{AbandonOnDrop, Outcome};
use super::pool::QueueOrder;

/// One event of an execution.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The model reported progress.
    Progress(Progress),
    /// The JSON bytes of the response: the last event.
    Result(Bytes),
    /// Why there is no response: the last event.
    Error(ExecError),
}

/// Reports the outcome to the engine's books (failure metrics and log lines) exactly once.
pub(crate) type Report = fn(&crate::metrics::Metrics, &RequestId, &ExecError);

/// A request submitted to the engine.
pub struct Execution {
    id: RequestId,
    progress: Option<mpsc::Receiver<Progress>>,
    outcome: Option<oneshot::Receiver<Outcome>>,
    ready: Option<Result<Bytes, ExecError>>,
    deadline: Option<(Instant, Duration)>,
    guard: Option<AbandonOnDrop>,
    position: Option<(std::sync::Arc<QueueOrder>, u64)>,
    metrics: std::sync::Arc<crate::metrics::Metrics>,
    report: Report,
    finished: bool,
}

impl std::fmt::Debug for Execution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Execution")
            .field("id", &self.id)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Parts {
    pub id: RequestId,
    pub progress: Option<mpsc::Receiver<Progress>>,
    pub outcome: oneshot::Receiver<Outcome>,
    pub timeout: Duration,
    pub position: (std::sync::Arc<QueueOrder>, u64),
    pub guard: AbandonOnDrop,
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
    pub report: Report,
}

impl Execution {
    pub(crate) fn queued(parts: Parts) -> Self {
        Self {
            id: parts.id,
            progress: parts.progress,
            outcome: Some(parts.outcome),
            ready: None,
            deadline: Some((Instant::now() + parts.timeout, parts.timeout)),
            guard: Some(parts.guard),
            position: Some(parts.position),
            metrics: parts.metrics,
            report: parts.report,
            finished: false,
        }
    }

    /// An execution whose outcome is already known (an inline run); `progress` holds what it reported.
    pub(crate) fn done(
        id: RequestId,
        progress: Option<mpsc::Receiver<Progress>>,
        outcome: Result<Bytes, ExecError>,
        metrics: std::sync::Arc<crate::metrics::Metrics>,
        report: Report,
    ) -> Self {
        Self {
            id,
            progress,
            outcome: None,
            ready: Some(outcome),
            deadline: None,
            guard: None,
            position: None,
            metrics,
            report,
            finished: false,
        }
    }

    /// The request id.
    pub fn id(&self) -> &RequestId {
        &self.id
    }

    /// Whether a worker has taken the request (an inline run has always started).
    pub fn has_started(&self) -> bool {
        self.guard.as_ref().is_none_or(|guard| guard.ticket().has_started())
    }

    /// Requests ahead of this one in the queue (0: it is next), while it waits; `None` once a worker
    /// has taken it.
    pub fn queue_position(&self) -> Option<u64> {
        if self.finished || self.has_started() {
            return None;
        }
        self.position.as_ref().map(|(order, seq)| order.ahead_of(*seq))
    }

    /// The next event; `None` after the result or error.
    pub async fn next(&mut self) -> Option<Event> {
        if self.finished {
            return None;
        }
        loop {
            if let Some(ready) = self.ready.take() {
                // Progress sent before the outcome comes first.
                if let Some(progress) = self.progress.as_mut().and_then(|rx| rx.try_recv().ok()) {
                    self.ready = Some(ready);
                    return Some(Event::Progress(progress));
                }
                return Some(self.finish(ready));
            }
            let outcome = self.wait_outcome_or_progress().await;
            match outcome {
                Step::Progress(progress) => return Some(Event::Progress(progress)),
                Step::Outcome(result) => self.ready = Some(result),
            }
        }
    }

    /// Waits for the result, dropping progress events.
    pub async fn result(mut self) -> Result<Bytes, ExecError> {
        self.progress = None;
        loop {
            match self.next().await {
                Some(Event::Result(bytes)) => return Ok(bytes),
                Some(Event::Error(err)) => return Err(err),
                Some(Event::Progress(_)) => {}
                None => return Err(ExecError::Internal("the execution ended without an outcome".to_owned())),
            }
        }
    }

    async fn wait_outcome_or_progress(&mut self) -> Step {
        let deadline = self.deadline;
        let Some(outcome) = self.outcome.as_mut() else {
            return Step::Outcome(Err(ExecError::Internal("no outcome to wait for".to_owned())));
        };
        let woke = tokio::select! {
            biased;
            answer = outcome => Woke::Answer(answer),
            Some(progress) = next_progress(self.progress.as_mut()) => Woke::Progress(progress),
            () = sleep_until(deadline) => Woke::Deadline,
        };
        match woke {
            Woke::Progress(progress) => Step::Progress(progress),
            Woke::Answer(answer) => {
                self.outcome = None;
                Step::Outcome(match answer {
                    Ok(result) => result.map_err(ExecError::from),
                    Err(_) => Err(ExecError::Internal("the worker stopped before answering".to_owned())),
                })
            }
            Woke::Deadline => {
                self.outcome = None;
                if let Some(guard) = self.guard.as_mut() {
                    guard.abandon();
                }
                let limit = deadline.map_or(Duration::ZERO, |(_, limit)| limit);
                Step::Outcome(Err(ExecError::Timeout(limit)))
            }
        }
    }

    fn finish(&mut self, result: Result<Bytes, ExecError>) -> Event {
        self.finished = true;
        if let Some(guard) = self.guard.as_mut() {
            guard.disarm();
        }
        match result {
            Ok(bytes) => Event::Result(bytes),
            Err(err) => {
                (self.report)(&self.metrics, &self.id, &err);
                Event::Error(err)
            }
        }
    }
}

enum Step {
    Progress(Progress),
    Outcome(Result<Bytes, ExecError>),
}

enum Woke {
    Answer(Result<Outcome, oneshot::error::RecvError>),
    Progress(Progress),
    Deadline,
}

async fn next_progress(rx: Option<&mut mpsc::Receiver<Progress>>) -> Option<Progress> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<(Instant, Duration)>) {
    match deadline {
        Some((at, _)) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
