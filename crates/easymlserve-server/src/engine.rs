//! The execution engine: loads the model once off the async runtime, then runs `process` on a pool of
//! worker threads fed by a bounded queue, or, for services that say they are cheap
//! (`Service::runs_inline`), directly on the runtime thread that read the request. A full queue, a
//! timeout or a panic fails one request only.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use easymlserve_core::{Service, ServiceError, panic_message};
use tokio::sync::oneshot;

use crate::error::ApiError;
use crate::metrics::Metrics;

/// Where the model is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// `load_model` is running.
    Loading,
    /// Serving requests.
    Ready,
    /// `load_model` failed; the reason.
    Failed(String),
    /// Shutdown began; no new work is accepted.
    Stopping,
}

/// Sizes of the worker pool.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolSize {
    pub workers: usize,
    pub queue_capacity: usize,
    pub timeout: Duration,
    pub batch: Batching,
}

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

/// Why the model did not produce a response.
enum Failure {
    Service(ServiceError),
    Panic(String),
    Encode(serde_json::Error),
}

struct Job<S: Service> {
    request: S::Request,
    enqueued: Instant,
    reply: oneshot::Sender<Result<Bytes, Failure>>,
}

/// The model and the workers that run it.
pub struct Engine<S: Service> {
    readiness: RwLock<Readiness>,
    unloaded: Mutex<Option<S>>,
    queue: RwLock<Option<SyncSender<Job<S>>>>,
    size: PoolSize,
    metrics: Arc<Metrics>,
    workers: OnceLock<usize>,
    /// Set instead of starting workers when the service runs inline.
    inline: OnceLock<Arc<S>>,
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

impl<S: Service> Engine<S> {
    pub(crate) fn new(service: S, size: PoolSize, metrics: Arc<Metrics>) -> Self {
        Self {
            readiness: RwLock::new(Readiness::Loading),
            unloaded: Mutex::new(Some(service)),
            queue: RwLock::new(None),
            size,
            metrics,
            workers: OnceLock::new(),
            inline: OnceLock::new(),
        }
    }

    /// Where the model is in its life.
    pub fn readiness(&self) -> Readiness {
        read(&self.readiness).clone()
    }

    /// Runs `load_model` on a blocking thread, then starts the workers. Runs once; later calls return
    /// the first outcome.
    pub async fn load(&self) -> Result<(), String> {
        let service = self.unloaded.lock().unwrap_or_else(PoisonError::into_inner).take();
        let Some(mut service) = service else {
            return match self.readiness() {
                Readiness::Failed(reason) => Err(reason),
                _ => Ok(()),
            };
        };
        let started = Instant::now();
        let loaded = tokio::task::spawn_blocking(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| service.load_model()));
            (service, outcome)
        })
        .await;
        let outcome = match loaded {
            Ok((service, Ok(Ok(())))) => Ok(service),
            Ok((_, Ok(Err(err)))) => Err(err.to_string()),
            Ok((_, Err(panic))) => Err(format!("load_model panicked: {}", panic_message(&*panic))),
            Err(join) => Err(format!("load_model could not run: {join}")),
        };
        match outcome {
            Ok(service) => {
                self.start(service);
                let mut readiness = write(&self.readiness);
                if *readiness == Readiness::Loading {
                    *readiness = Readiness::Ready;
                }
                tracing::info!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    workers = self.workers(),
                    inline = self.inline.get().is_some(),
                    "model loaded, ready"
                );
                Ok(())
            }
            Err(reason) => {
                tracing::error!(%reason, "model failed to load; the server stays up but not ready");
                *write(&self.readiness) = Readiness::Failed(reason.clone());
                Err(reason)
            }
        }
    }

    /// Starts the worker pool, or keeps the service for inline calls when it runs inline and batching
    /// is off (batching needs the queue).
    fn start(&self, service: S) {
        if service.runs_inline() {
            if self.size.batch.max_size <= 1 {
                // The runtime's threads run the model: report them as the workers.
                let threads = tokio::runtime::Handle::try_current().map_or(1, |h| h.metrics().num_workers());
                let _ = self.workers.set(threads);
                let _ = self.inline.set(Arc::new(service));
                return;
            }
            tracing::warn!("the service runs inline, but batching is on: using the worker pool");
        }
        self.start_workers(Arc::new(service));
    }

    fn start_workers(&self, service: Arc<S>) {
        let (tx, rx) = sync_channel::<Job<S>>(self.size.queue_capacity);
        let rx = Arc::new(Mutex::new(rx));
        for index in 0..self.size.workers {
            let (service, rx, metrics) = (Arc::clone(&service), Arc::clone(&rx), Arc::clone(&self.metrics));
            let batch = self.size.batch;
            let spawned = std::thread::Builder::new()
                .name(format!("easymlserve-worker-{index}"))
                .spawn(move || worker_loop(&*service, &rx, &metrics, batch));
            if let Err(err) = spawned {
                tracing::error!(%err, index, "could not start a worker thread");
            }
        }
        let _ = self.workers.set(self.size.workers);
        *write(&self.queue) = Some(tx);
    }

    /// Stops accepting work: readiness turns to `Stopping`, and once the queue's sender is dropped the
    /// workers finish what is queued and exit.
    pub(crate) fn stop_accepting(&self) {
        *write(&self.readiness) = Readiness::Stopping;
    }

    /// Drops the queue so idle workers exit.
    pub(crate) fn close(&self) {
        write(&self.queue).take();
    }

    /// Queues a validated request and waits for its JSON answer, within the timeout.
    pub async fn call(&self, request: S::Request) -> Result<Bytes, ApiError> {
        match self.readiness() {
            Readiness::Ready => {}
            Readiness::Loading => {
                return Err(ApiError::NotReady("the model is still loading".to_owned()));
            }
            Readiness::Failed(_) => {
                return Err(ApiError::NotReady(
                    "the model failed to load; see /health/ready".to_owned(),
                ));
            }
            Readiness::Stopping => return Err(ApiError::ShuttingDown),
        }
        if let Some(service) = self.inline.get() {
            return self.call_inline(service, request);
        }
        let (reply, answer) = oneshot::channel();
        let job = Job {
            request,
            enqueued: Instant::now(),
            reply,
        };
        {
            let queue = read(&self.queue);
            let Some(tx) = queue.as_ref() else {
                return Err(ApiError::ShuttingDown);
            };
            self.metrics.queue_depth().fetch_add(1, Ordering::Relaxed);
            if let Err(err) = tx.try_send(job) {
                self.metrics.queue_depth().fetch_sub(1, Ordering::Relaxed);
                return Err(match err {
                    TrySendError::Full(_) => ApiError::QueueFull {
                        capacity: self.size.queue_capacity,
                    },
                    TrySendError::Disconnected(_) => ApiError::ShuttingDown,
                });
            }
        }
        let outcome = match tokio::time::timeout(self.size.timeout, answer).await {
            Err(_) => {
                self.metrics.record_model_failure("timeout");
                return Err(ApiError::Timeout(self.size.timeout));
            }
            Ok(Err(_)) => {
                return Err(ApiError::Internal("the worker stopped before answering".to_owned()));
            }
            Ok(Ok(outcome)) => outcome,
        };
        outcome.map_err(|failure| self.report(failure))
    }

    /// Runs `process` on the calling thread: no queue, no hand-off, no timeout.
    fn call_inline(&self, service: &S, request: S::Request) -> Result<Bytes, ApiError> {
        self.metrics.busy_workers().fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let outcome = match catch_unwind(AssertUnwindSafe(|| service.process(request))) {
            Ok(result) => encode::<S>(result),
            Err(panic) => Err(Failure::Panic(panic_message(&*panic))),
        };
        self.metrics.record_model_time(started.elapsed());
        self.metrics.busy_workers().fetch_sub(1, Ordering::Relaxed);
        outcome.map_err(|failure| self.report(failure))
    }

    /// Counts and logs a model failure and turns it into the error the caller gets.
    fn report(&self, failure: Failure) -> ApiError {
        match failure {
            Failure::Service(err @ ServiceError::InvalidInput { .. }) => ApiError::from(err),
            Failure::Service(err) => {
                self.metrics.record_model_failure("error");
                tracing::error!(detail = %err, "model returned an error");
                ApiError::ModelFailed
            }
            Failure::Panic(message) => {
                self.metrics.record_model_failure("panic");
                tracing::error!(detail = %message, "model panicked; the worker lives on");
                ApiError::ModelPanicked
            }
            Failure::Encode(err) => {
                self.metrics.record_model_failure("encode");
                tracing::error!(detail = %err, "the model's response could not be encoded as JSON");
                ApiError::ModelFailed
            }
        }
    }

    /// Threads that run the model: the worker threads, or for an inline service the runtime's threads (0
    /// before the model is loaded).
    pub fn workers(&self) -> usize {
        self.workers.get().copied().unwrap_or(0)
    }

    pub(crate) fn queue_capacity(&self) -> usize {
        self.size.queue_capacity
    }
}

fn worker_loop<S: Service>(service: &S, rx: &Mutex<Receiver<Job<S>>>, metrics: &Metrics, batch: Batching) {
    while let Some(jobs) = next_batch(rx, batch) {
        let mut live = Vec::with_capacity(jobs.len());
        for job in jobs {
            metrics.queue_depth().fetch_sub(1, Ordering::Relaxed);
            metrics.record_queue_time(job.enqueued.elapsed());
            if job.reply.is_closed() {
                // The caller timed out or went away while the job was queued: do not spend the model on it.
                metrics.record_model_failure("abandoned");
            } else {
                live.push(job);
            }
        }
        if live.is_empty() {
            continue;
        }
        metrics.busy_workers().fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        if batch.max_size > 1 {
            metrics.record_batch_size(live.len());
            run_batch(service, live);
        } else {
            for job in live {
                let outcome = match catch_unwind(AssertUnwindSafe(|| service.process(job.request))) {
                    Ok(result) => encode::<S>(result),
                    Err(panic) => Err(Failure::Panic(panic_message(&*panic))),
                };
                let _ = job.reply.send(outcome);
            }
        }
        metrics.record_model_time(started.elapsed());
        metrics.busy_workers().fetch_sub(1, Ordering::Relaxed);
    }
}

/// Takes the next job, waiting as long as needed, then up to `max_size - 1` more that arrive within
/// `max_wait`. `None` once the queue is closed and empty. The receiver stays locked while the batch
/// fills, so the other workers cannot take a half-filled batch's late arrivals.
fn next_batch<S: Service>(rx: &Mutex<Receiver<Job<S>>>, batch: Batching) -> Option<Vec<Job<S>>> {
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

/// Runs one `process_batch` call and sends each answer to its own caller.
fn run_batch<S: Service>(service: &S, jobs: Vec<Job<S>>) {
    let count = jobs.len();
    let (requests, replies): (Vec<_>, Vec<_>) = jobs.into_iter().map(|job| (job.request, job.reply)).unzip();
    match catch_unwind(AssertUnwindSafe(|| service.process_batch(requests))) {
        Ok(results) if results.len() == count => {
            for (reply, result) in replies.into_iter().zip(results) {
                let _ = reply.send(encode::<S>(result));
            }
        }
        Ok(results) => {
            let message = format!("process_batch returned {} results for {count} requests", results.len());
            for reply in replies {
                let _ = reply.send(Err(Failure::Service(ServiceError::Failed(message.clone()))));
            }
        }
        Err(panic) => {
            let message = format!(
                "process_batch panicked on a batch of {count}: {}",
                panic_message(&*panic)
            );
            for reply in replies {
                let _ = reply.send(Err(Failure::Panic(message.clone())));
            }
        }
    }
}

/// The JSON bytes of a model's answer.
fn encode<S: Service>(result: Result<S::Response, ServiceError>) -> Result<Bytes, Failure> {
    match result {
        Ok(response) => serde_json::to_vec(&response).map(Bytes::from).map_err(Failure::Encode),
        Err(err) => Err(Failure::Service(err)),
    }
}
