//! The engine's asynchronous path, for backends that say [`Backend::runs_async`]: each request runs as
//! a task on the server's runtime instead of going through the queue to a worker thread. A semaphore
//! of workers plus queue capacity keeps the same bound (a request beyond it is refused at once), and a
//! caller that times out or goes away cancels its request the moment it does: the task sets the
//! cancellation flag and polls the backend's future again, so the backend needs no timer to notice.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use easymlserve_core::panic_message;
use futures_util::FutureExt;
use tokio::sync::{OwnedSemaphorePermit, oneshot};

use super::job::{Job, Outcome, Ticket};
use super::{Engine, ExecError, Loaded, read};
use crate::backend::{Backend, Item, ModelError};
use crate::metrics::Metrics;

impl Engine {
    /// Starts `job` as a task on the runtime, if a slot is free; its queue number is taken at once.
    pub(super) fn spawn_task(&self, loaded: &Loaded, job: Job) -> Result<u64, ExecError> {
        let permit = match read(&self.slots).as_ref() {
            None => return Err(ExecError::ShuttingDown),
            Some(slots) => Arc::clone(slots)
                .try_acquire_owned()
                .map_err(|_| ExecError::QueueFull {
                    capacity: self.size.queue_capacity,
                })?,
        };
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| ExecError::from(no_runtime()))?;
        let mut number = 0;
        let _ = self.order.enqueue(|seq| {
            number = seq;
            Ok::<(), bool>(())
        });
        self.order.taken(number);
        self.metrics.record_queue_time(job.enqueued.elapsed());
        let (item, ticket, reply) = job.into_parts();
        let backend = Arc::clone(&loaded.backend);
        runtime.spawn(run(backend, item, ticket, reply, Arc::clone(&self.metrics), permit));
        Ok(number)
    }
}

/// Runs `item` on `backend` and sends the outcome to `reply`, holding `permit` until it is done.
pub(crate) async fn run(
    backend: Arc<dyn Backend>,
    item: Item,
    ticket: Arc<Ticket>,
    mut reply: oneshot::Sender<Outcome>,
    metrics: Arc<Metrics>,
    permit: OwnedSemaphorePermit,
) {
    if reply.is_closed() || !ticket.start() {
        metrics.record_model_failure("abandoned");
        return;
    }
    metrics.busy_workers().inc();
    let started = Instant::now();
    let future = match catch_unwind(AssertUnwindSafe(|| backend.run_async(item))) {
        Ok(future) => future,
        Err(panic) => Box::pin(std::future::ready(Err(ModelError::Panicked(panic_message(&*panic))))),
    };
    let mut future = AssertUnwindSafe(future)
        .catch_unwind()
        .map(|outcome| outcome.unwrap_or_else(|panic| Err(ModelError::Panicked(panic_message(&*panic)))));
    let outcome: Outcome = tokio::select! {
        outcome = &mut future => outcome,
        () = reply.closed() => {
            // The caller timed out or left: the flag first, then the backend sees it on this poll.
            ticket.abandon(&metrics);
            future.await
        }
    };
    metrics.record_model_time(started.elapsed());
    metrics.busy_workers().dec();
    ticket.finish(&metrics);
    drop(permit);
    let _ = reply.send(outcome);
}

/// The outcome when the task could not be started (no runtime on this thread).
pub(crate) fn no_runtime() -> ModelError {
    ModelError::Failed("the asynchronous backend was called outside the server's runtime".to_owned())
}
