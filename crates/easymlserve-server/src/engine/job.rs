//! One queued request and its ticket: the shared record of where the request is (queued, running,
//! done, abandoned) that lets a caller who times out or goes away cancel it, and lets `/metrics` count
//! workers still busy with requests nobody waits for.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use bytes::Bytes;
use easymlserve_core::{CancelFlag, Context};
use tokio::sync::oneshot;

use crate::backend::{Item, ModelError};
use crate::metrics::Metrics;

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;
const ABANDONED_QUEUED: u8 = 3;
const ABANDONED_RUNNING: u8 = 4;

/// Where one request is; shared by its caller and the worker that runs it.
#[derive(Debug)]
pub(crate) struct Ticket {
    phase: AtomicU8,
    cancel: CancelFlag,
}

impl Ticket {
    pub(crate) fn new(cancel: CancelFlag) -> Arc<Self> {
        Arc::new(Self {
            phase: AtomicU8::new(QUEUED),
            cancel,
        })
    }

    /// The caller no longer waits: set the cancellation flag, and count the worker as busy with an
    /// abandoned request if it is running it now.
    pub(crate) fn abandon(&self, metrics: &Metrics) {
        self.cancel.cancel();
        let running = self
            .phase
            .compare_exchange(RUNNING, ABANDONED_RUNNING, Ordering::AcqRel, Ordering::Acquire);
        match running {
            Ok(_) => {
                metrics.abandoned_busy_workers().inc();
            }
            Err(QUEUED) => {
                let _ = self
                    .phase
                    .compare_exchange(QUEUED, ABANDONED_QUEUED, Ordering::AcqRel, Ordering::Acquire);
            }
            Err(_) => {}
        }
    }

    /// A worker takes the request; false when it was abandoned while queued.
    pub(crate) fn start(&self) -> bool {
        self.phase
            .compare_exchange(QUEUED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Whether the caller no longer waits for the request (it timed out or left).
    pub(crate) fn is_abandoned(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Whether a worker has taken the request (it runs or has finished).
    pub(crate) fn has_started(&self) -> bool {
        matches!(self.phase.load(Ordering::Acquire), RUNNING | DONE | ABANDONED_RUNNING)
    }

    /// The worker is done with the request.
    pub(crate) fn finish(&self, metrics: &Metrics) {
        if self.phase.swap(DONE, Ordering::AcqRel) == ABANDONED_RUNNING {
            metrics.abandoned_busy_workers().dec();
        }
    }
}

/// Sets the cancellation flag when the caller's future is dropped before its answer came (the client
/// closed the connection), unless disarmed.
pub(crate) struct AbandonOnDrop {
    ticket: Arc<Ticket>,
    metrics: Arc<Metrics>,
    armed: bool,
}

impl AbandonOnDrop {
    pub(crate) fn new(ticket: Arc<Ticket>, metrics: Arc<Metrics>) -> Self {
        Self {
            ticket,
            metrics,
            armed: true,
        }
    }

    /// The request's ticket.
    pub(crate) fn ticket(&self) -> &Ticket {
        &self.ticket
    }

    /// Abandons now (the timeout passed) and disarms.
    pub(crate) fn abandon(&mut self) {
        if self.armed {
            self.armed = false;
            self.ticket.abandon(&self.metrics);
        }
    }

    /// The answer came: nothing to cancel.
    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for AbandonOnDrop {
    fn drop(&mut self) {
        self.abandon();
    }
}

/// What a worker sends back for one request.
pub(crate) type Outcome = Result<Bytes, ModelError>;

/// A validated request waiting for a worker.
pub(crate) struct Job {
    pub request: serde_json::Value,
    pub ctx: Context,
    pub enqueued: Instant,
    /// Its number in the order of the queue, for its position while it waits.
    pub seq: u64,
    pub ticket: Arc<Ticket>,
    pub reply: oneshot::Sender<Outcome>,
}

impl Job {
    /// The request as the backend takes it.
    pub(crate) fn into_parts(self) -> (Item, Arc<Ticket>, oneshot::Sender<Outcome>) {
        (Item::new(self.request, self.ctx), self.ticket, self.reply)
    }
}
