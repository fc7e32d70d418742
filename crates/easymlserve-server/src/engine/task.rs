//! The engine's asynchronous path, for backends that say [`Backend::runs_async`]: each request runs as
//! a task on the server's runtime instead of going through the queue to a worker thread. A semaphore
//! of workers plus queue capacity keeps the same bound (a request beyond it is refused at once), and a
//! caller that times out or goes away cancels its request the moment it does: the task sets the
//! cancellation flag and polls the backend's future again, so the backend needs no timer to notice.
//! The request stays queued (position, `queue_depth`, queue time) until the backend says it has taken
//! it ([`crate::Item::started`], once it has leased a worker process), as on the thread path.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use easymlserve_core::panic_message;
use futures_util::FutureExt;
use tokio::sync::{OwnedSemaphorePermit, oneshot};

use super::job::{Job, Outcome, Ticket};
use super::pool::QueueOrder;
use super::{Engine, ExecError, Loaded, read};
use crate::backend::{Backend, ModelError};
use crate::metrics::Metrics;

impl Engine {
    /// Starts `job` as a task on the runtime, if a slot is free. It counts as queued (with its number
    /// in the queue's order) until the backend says it has taken it ([`crate::Item::started`]).
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
        self.metrics.queue_depth().inc();
        let enqueued = job.enqueued;
        let (item, ticket, reply) = job.into_parts();
        let start = Arc::new(Start {
            phase: Mutex::new(Phase::Waiting),
            ticket: Arc::clone(&ticket),
            metrics: Arc::clone(&self.metrics),
            order: Arc::clone(&self.order),
            seq: number,
            enqueued,
        });
        let hook = Arc::clone(&start);
        let item = item.with_start(Box::new(move || hook.begin()));
        let backend = Arc::clone(&loaded.backend);
        runtime.spawn(run(backend, item, start, reply, permit));
        Ok(number)
    }
}

/// Where a task's request is, as the engine's books see it.
enum Phase {
    /// Waiting for what the backend needs (a worker process): queued.
    Waiting,
    /// The backend took it at this instant: running, a worker busy.
    Running(Instant),
    /// The backend took it after its caller had left: not run.
    Refused,
}

/// The books of one task: moved from queued to running when the backend takes the request.
struct Start {
    phase: Mutex<Phase>,
    ticket: Arc<Ticket>,
    metrics: Arc<Metrics>,
    order: Arc<QueueOrder>,
    seq: u64,
    enqueued: Instant,
}

impl Start {
    /// The backend took the request: it leaves the queue and, unless its caller left, runs now.
    fn begin(&self) -> bool {
        let mut phase = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        if !matches!(*phase, Phase::Waiting) {
            return matches!(*phase, Phase::Running(_));
        }
        self.order.taken(self.seq);
        self.metrics.queue_depth().dec();
        self.metrics.record_queue_time(self.enqueued.elapsed());
        if self.ticket.start() {
            self.metrics.busy_workers().inc();
            *phase = Phase::Running(Instant::now());
            true
        } else {
            self.metrics.record_model_failure("abandoned");
            *phase = Phase::Refused;
            false
        }
    }

    /// The backend's future ended: settle the books for whichever phase it reached.
    fn end(&self) {
        let phase = std::mem::replace(
            &mut *self.phase.lock().unwrap_or_else(PoisonError::into_inner),
            Phase::Refused,
        );
        match phase {
            Phase::Running(started) => {
                self.metrics.record_model_time(started.elapsed());
                self.metrics.busy_workers().dec();
            }
            Phase::Waiting => {
                // It never left the queue (cancelled while it waited, or the backend failed first).
                self.metrics.queue_depth().dec();
                if self.ticket.is_abandoned() {
                    self.metrics.record_model_failure("abandoned");
                }
            }
            Phase::Refused => {}
        }
        self.ticket.finish(&self.metrics);
    }
}

/// Runs `item` on `backend` and sends the outcome to `reply`, holding `permit` until it is done.
async fn run(
    backend: Arc<dyn Backend>,
    item: crate::backend::Item,
    start: Arc<Start>,
    mut reply: oneshot::Sender<Outcome>,
    permit: OwnedSemaphorePermit,
) {
    let outcome: Outcome = if reply.is_closed() || start.ticket.is_abandoned() {
        // The caller left before the task ran: the backend is not called.
        drop(item);
        Err(ModelError::Cancelled)
    } else {
        let future = match catch_unwind(AssertUnwindSafe(|| backend.run_async(item))) {
            Ok(future) => future,
            Err(panic) => Box::pin(std::future::ready(Err(ModelError::Panicked(panic_message(&*panic))))),
        };
        let mut future = AssertUnwindSafe(future)
            .catch_unwind()
            .map(|outcome| outcome.unwrap_or_else(|panic| Err(ModelError::Panicked(panic_message(&*panic)))));
        tokio::select! {
            outcome = &mut future => outcome,
            () = reply.closed() => {
                // The caller timed out or left: the flag first, then the backend sees it on this poll.
                start.ticket.abandon(&start.metrics);
                future.await
            }
        }
    };
    // The slot is free before the books say so: a caller that finds the workers idle in /metrics
    // finds room for its request too. Both are settled before the answer goes out.
    drop(permit);
    start.end();
    let _ = reply.send(outcome);
}

/// The outcome when the task could not be started (no runtime on this thread).
pub(crate) fn no_runtime() -> ModelError {
    ModelError::Failed("the asynchronous backend was called outside the server's runtime".to_owned())
}
