//! The worker pool: threads that take jobs from the bounded queue (alone, or in batches when dynamic
//! batching is on), run the backend with panics caught, and send each caller its own outcome.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use easymlserve_core::panic_message;

use super::job::{Job, Outcome};
use crate::backend::{Backend, ModelError};
use crate::metrics::Metrics;

/// Dynamic batching: how many queued requests one `process_batch` call may take, and how long the
/// first of them waits for others to join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// Most requests in one call; 1 turns batching off (every request goes to `process`).
    pub max_size: usize,
    /// Longest the first request of a batch waits for more to arrive.
    pub max_wait: Duration,
}

impl Default for Batching {
    /// Off: one request per call.
    fn default() -> Self {
        Self {
            max_size: 1,
            max_wait: Duration::from_millis(2),
        }
    }
}

/// Runs jobs until the queue closes.
pub(crate) fn worker_loop(backend: &dyn Backend, rx: &Mutex<Receiver<Job>>, shared: &Shared, batch: Batching) {
    let metrics = &*shared.metrics;
    while let Some(jobs) = next_batch(rx, batch) {
        let mut live = Vec::with_capacity(jobs.len());
        for job in jobs {
            shared.order.taken(job.seq);
            metrics.queue_depth().dec();
            metrics.record_queue_time(job.enqueued.elapsed());
            if job.reply.is_closed() || !job.ticket.start() {
                // The caller timed out or went away while the job was queued: do not spend the model on it.
                metrics.record_model_failure("abandoned");
            } else {
                live.push(job);
            }
        }
        if live.is_empty() {
            continue;
        }
        // The model's time and the busy gauge are settled before any reply is sent: a caller that
        // reads /metrics right after its answer must find its call counted and the worker idle.
        if batch.max_size > 1 {
            metrics.record_batch_size(live.len());
            run_batch(backend, live, metrics);
        } else {
            for job in live {
                let (item, ticket, reply) = job.into_parts();
                metrics.busy_workers().inc();
                let started = Instant::now();
                let outcome = run_one(backend, item);
                metrics.record_model_time(started.elapsed());
                metrics.busy_workers().dec();
                ticket.finish(metrics);
                let _ = reply.send(outcome);
            }
        }
    }
}

/// Runs one request with its panic caught.
pub(crate) fn run_one(backend: &dyn Backend, item: crate::backend::Item) -> Outcome {
    catch_unwind(AssertUnwindSafe(|| backend.run(item)))
        .unwrap_or_else(|panic| Err(ModelError::Panicked(panic_message(&*panic))))
}

/// Takes the next job, waiting as long as needed, then up to `max_size - 1` more that arrive within
/// `max_wait`. `None` once the queue is closed and empty. The receiver stays locked while the batch
/// fills, so the other workers cannot take a half-filled batch's late arrivals.
fn next_batch(rx: &Mutex<Receiver<Job>>, batch: Batching) -> Option<Vec<Job>> {
    let rx = rx.lock().unwrap_or_else(PoisonError::into_inner);
    let first = rx.recv().ok()?;
    let mut jobs = vec![first];
    let deadline = Instant::now() + batch.max_wait;
    while jobs.len() < batch.max_size {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(job) => jobs.push(job),
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
        }
    }
    Some(jobs)
}

/// Runs one batch call and sends each answer to its own caller.
fn run_batch(backend: &dyn Backend, jobs: Vec<Job>, metrics: &Metrics) {
    let count = jobs.len();
    let mut items = Vec::with_capacity(count);
    let mut waiting = Vec::with_capacity(count);
    for job in jobs {
        let (item, ticket, reply) = job.into_parts();
        items.push(item);
        waiting.push((ticket, reply));
    }
    metrics.busy_workers().inc();
    let started = Instant::now();
    let outcomes = match catch_unwind(AssertUnwindSafe(|| backend.run_batch(items))) {
        Ok(outcomes) if outcomes.len() == count => outcomes,
        Ok(outcomes) => {
            let message = format!("process_batch returned {} results for {count} requests", outcomes.len());
            vec![Err(ModelError::Failed(message)); count]
        }
        Err(panic) => {
            let message = format!(
                "process_batch panicked on a batch of {count}: {}",
                panic_message(&*panic)
            );
            vec![Err(ModelError::Panicked(message)); count]
        }
    };
    metrics.record_model_time(started.elapsed());
    metrics.busy_workers().dec();
    for ((ticket, reply), outcome) in waiting.into_iter().zip(outcomes) {
        ticket.finish(metrics);
        let _ = reply.send(outcome);
    }
}

/// What every worker thread shares besides the queue.
pub(crate) struct Shared {
    pub metrics: Arc<Metrics>,
    pub order: Arc<QueueOrder>,
}

/// Counts requests into and out of the queue, so a waiting request knows how many are ahead of it.
/// The queue is first in, first out: a request numbered `seq` has `seq - taken` ahead of it.
#[derive(Debug, Default)]
pub(crate) struct QueueOrder {
    next: Mutex<u64>,
    taken: std::sync::atomic::AtomicU64,
}

impl QueueOrder {
    /// Runs `send` with the next number; the number is used only when `send` succeeds, so the queue
    /// and the numbers stay in the same order.
    pub(crate) fn enqueue<E>(&self, send: impl FnOnce(u64) -> Result<(), E>) -> Result<(), E> {
        let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        send(*next)?;
        *next += 1;
        Ok(())
    }

    /// A worker took request `seq` out of the queue.
    pub(crate) fn taken(&self, seq: u64) {
        self.taken.fetch_max(seq + 1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Requests ahead of request `seq` (0: it is next).
    pub(crate) fn ahead_of(&self, seq: u64) -> u64 {
        seq.saturating_sub(self.taken.load(std::sync::atomic::Ordering::Acquire))
    }
}

/// Starts `workers` threads over one shared receiver.
pub(crate) fn spawn_workers(
    workers: usize,
    backend: &Arc<dyn Backend>,
    rx: Receiver<Job>,
    shared: &Arc<Shared>,
    batch: Batching,
) {
    let rx = Arc::new(Mutex::new(rx));
    for index in 0..workers {
        let (backend, rx, shared) = (Arc::clone(backend), Arc::clone(&rx), Arc::clone(shared));
        let spawned = std::thread::Builder::new()
            .name(format!("easymlserve-worker-{index}"))
            .spawn(move || worker_loop(&*backend, &rx, &shared, batch));
        if let Err(err) = spawned {
            tracing::error!(%err, index, "could not start a worker thread");
        }
    }
}
