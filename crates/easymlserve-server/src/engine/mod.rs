//! The execution engine: loads a [`Backend`] once off the async runtime and learns its spec, validates
//! requests against that spec, and runs them on a pool of worker threads fed by a bounded queue, or,
//! for backends that say they are cheap, directly on the runtime thread that read the request. A full
//! queue, a timeout, a panic or a crash fails one request only. Non-generic: every kind of model goes
//! through the same engine.

mod error;
mod execution;
mod job;
mod pool;
mod task;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use easymlserve_core::{CancelFlag, Context, Progress, RequestId, ServiceSpec, panic_message};
use tokio::sync::{mpsc, oneshot};

pub use error::ExecError;
pub use execution::{Event, Execution};
pub use pool::Batching;

use crate::backend::{Backend, Item, LoadError};
use crate::metrics::Metrics;
use crate::validate::Validator;
use execution::Parts;
use job::{AbandonOnDrop, Job, Ticket};

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

/// A request that passed the loaded spec's request schema; only these enter the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct Valid(serde_json::Value);

impl Valid {
    /// The validated JSON.
    pub fn value(&self) -> &serde_json::Value {
        &self.0
    }
}

/// How one request is submitted.
#[derive(Debug, Clone, Default)]
pub struct Submit {
    /// The caller's request id (`X-Request-Id`); one is made up when `None`.
    pub id: Option<RequestId>,
    /// Deliver the model's progress reports as events (otherwise they are dropped unread).
    pub progress: bool,
    /// How long the caller waits for the answer, instead of the server's request timeout (jobs wait
    /// longer than a request).
    pub timeout: Option<Duration>,
}

/// What the engine knows once the backend is loaded.
struct Loaded {
    backend: Arc<dyn Backend>,
    spec: Arc<ServiceSpec>,
    validator: Validator,
    inline: bool,
    /// Runs requests as tasks on the runtime ([`Backend::runs_async`]), not on worker threads.
    tasks: bool,
}

/// The model and the workers that run it.
pub struct Engine {
    readiness: RwLock<Readiness>,
    unloaded: Mutex<Option<Box<dyn Backend>>>,
    loaded: OnceLock<Loaded>,
    queue: RwLock<Option<SyncSender<Job>>>,
    /// For an asynchronous backend: one permit per request running or waiting (workers plus queue).
    slots: RwLock<Option<Arc<tokio::sync::Semaphore>>>,
    size: PoolSize,
    metrics: Arc<Metrics>,
    workers: OnceLock<usize>,
    next_id: AtomicU64,
    order: Arc<pool::QueueOrder>,
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// Progress reports an in-process subscriber may fall behind by before new ones are dropped.
const PROGRESS_BUFFER: usize = 256;

impl Engine {
    pub(crate) fn new(backend: Box<dyn Backend>, size: PoolSize, metrics: Arc<Metrics>) -> Self {
        Self {
            readiness: RwLock::new(Readiness::Loading),
            unloaded: Mutex::new(Some(backend)),
            loaded: OnceLock::new(),
            queue: RwLock::new(None),
            slots: RwLock::new(None),
            size,
            metrics,
            workers: OnceLock::new(),
            next_id: AtomicU64::new(1),
            order: Arc::default(),
        }
    }

    /// Where the model is in its life.
    pub fn readiness(&self) -> Readiness {
        read(&self.readiness).clone()
    }

    /// The loaded model's spec; `None` before loading succeeded.
    pub fn spec(&self) -> Option<&Arc<ServiceSpec>> {
        self.loaded.get().map(|loaded| &loaded.spec)
    }

    /// The spec the backend knows before loading, if any (for printing the OpenAPI document).
    pub fn describe(&self) -> Option<ServiceSpec> {
        if let Some(spec) = self.spec() {
            return Some(ServiceSpec::clone(spec));
        }
        let unloaded = self.unloaded.lock().unwrap_or_else(PoisonError::into_inner);
        unloaded.as_ref().and_then(|backend| backend.describe())
    }

    /// Loads the backend on a blocking thread, compiles the validator for its spec, then starts the
    /// workers. Runs once; later calls return the first outcome.
    pub async fn load(&self) -> Result<Arc<ServiceSpec>, ExecError> {
        self.load_then(|_| ()).await
    }

    /// Like [`Engine::load`], running `prepare` with the spec after the workers start and before
    /// readiness turns on, so what is built from the spec (the documents) exists once `/health/ready`
    /// says 200.
    pub(crate) async fn load_then(
        &self,
        prepare: impl FnOnce(&Arc<ServiceSpec>) + Send,
    ) -> Result<Arc<ServiceSpec>, ExecError> {
        let backend = self.unloaded.lock().unwrap_or_else(PoisonError::into_inner).take();
        let Some(mut backend) = backend else {
            return match (self.spec(), self.readiness()) {
                (Some(spec), _) => Ok(Arc::clone(spec)),
                (None, Readiness::Failed(reason)) => Err(ExecError::LoadFailed(reason)),
                (None, _) => Err(ExecError::Loading),
            };
        };
        let started = Instant::now();
        let loaded = tokio::task::spawn_blocking(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| backend.load()));
            (backend, outcome)
        })
        .await;
        let outcome = match loaded {
            Ok((backend, Ok(Ok(spec)))) => Validator::new(spec.request_schema.clone())
                .map(|validator| (backend, spec, validator))
                .map_err(|err| LoadError::new(format!("the request schema is not a usable JSON Schema: {err}"))),
            Ok((_, Ok(Err(err)))) => Err(err),
            Ok((_, Err(panic))) => Err(LoadError::new(format!(
                "load_model panicked: {}",
                panic_message(&*panic)
            ))),
            Err(join) => Err(LoadError::new(format!("load_model could not run: {join}"))),
        };
        match outcome {
            Ok((backend, spec, validator)) => {
                let spec = Arc::new(spec);
                self.start(backend, Arc::clone(&spec), validator);
                prepare(&spec);
                let mut readiness = write(&self.readiness);
                if *readiness == Readiness::Loading {
                    *readiness = Readiness::Ready;
                }
                tracing::info!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    workers = self.workers(),
                    inline = self.loaded.get().is_some_and(|l| l.inline),
                    "model loaded, ready"
                );
                Ok(spec)
            }
            Err(err) => {
                let reason = err.message;
                tracing::error!(%reason, "model failed to load; the server stays up but not ready");
                *write(&self.readiness) = Readiness::Failed(reason.clone());
                Err(ExecError::LoadFailed(reason))
            }
        }
    }

    /// Starts the worker pool, or keeps the backend for inline calls when it runs inline and batching
    /// is off (batching needs the queue).
    fn start(&self, backend: Box<dyn Backend>, spec: Arc<ServiceSpec>, validator: Validator) {
        let backend: Arc<dyn Backend> = Arc::from(backend);
        let mut inline = backend.runs_inline();
        if inline && self.size.batch.max_size > 1 {
            tracing::warn!("the service runs inline, but batching is on: using the worker pool");
            inline = false;
        }
        let tasks = !inline && backend.runs_async() && self.size.batch.max_size <= 1;
        if inline {
            // The runtime's threads run the model: report them as the workers.
            let threads = tokio::runtime::Handle::try_current().map_or(1, |h| h.metrics().num_workers());
            let _ = self.workers.set(threads);
        } else if tasks {
            let permits = self.size.workers + self.size.queue_capacity;
            *write(&self.slots) = Some(Arc::new(tokio::sync::Semaphore::new(permits)));
            let _ = self.workers.set(self.size.workers);
        } else {
            let (tx, rx) = sync_channel::<Job>(self.size.queue_capacity);
            let shared = Arc::new(pool::Shared {
                metrics: Arc::clone(&self.metrics),
                order: Arc::clone(&self.order),
            });
            pool::spawn_workers(self.size.workers, &backend, rx, &shared, self.size.batch);
            let _ = self.workers.set(self.size.workers);
            *write(&self.queue) = Some(tx);
        }
        let _ = self.loaded.set(Loaded {
            backend,
            spec,
            validator,
            inline,
            tasks,
        });
    }

    /// Stops accepting work: readiness turns to `Stopping`; queued and running requests go on.
    pub(crate) fn stop_accepting(&self) {
        *write(&self.readiness) = Readiness::Stopping;
    }

    /// Drops the queue so idle workers exit, and tells the backend the server stops.
    pub(crate) fn close(&self) {
        write(&self.queue).take();
        write(&self.slots).take();
        if let Some(loaded) = self.loaded.get() {
            loaded.backend.shutdown();
        }
    }

    /// The loaded model, when it takes requests now.
    fn serving(&self) -> Result<&Loaded, ExecError> {
        match &*read(&self.readiness) {
            Readiness::Ready => {}
            Readiness::Loading => return Err(ExecError::Loading),
            Readiness::Failed(reason) => return Err(ExecError::LoadFailed(reason.clone())),
            Readiness::Stopping => return Err(ExecError::ShuttingDown),
        }
        self.loaded.get().ok_or(ExecError::Loading)
    }

    /// Checks a request against the loaded spec's request schema.
    pub fn validate(&self, request: serde_json::Value) -> Result<Valid, ExecError> {
        let loaded = self.serving()?;
        loaded
            .validator
            .validate(&request)
            .map_err(|invalid| ExecError::InvalidRequest {
                field: invalid.path,
                message: invalid.message,
            })?;
        Ok(Valid(request))
    }

    /// Runs a validated request and waits for its JSON answer, within the timeout. Dropping the
    /// future before the answer cancels the request.
    pub async fn call(&self, request: Valid, id: Option<RequestId>) -> Result<bytes::Bytes, ExecError> {
        self.submit(
            request,
            Submit {
                id,
                ..Submit::default()
            },
        )?
        .result()
        .await
    }

    /// Submits a validated request and returns its stream of events: progress (when asked for), then
    /// exactly one result or error.
    pub fn submit(&self, request: Valid, submit: Submit) -> Result<Execution, ExecError> {
        let loaded = self.serving()?;
        let id = submit
            .id
            .or_else(crate::observe::current_request_id)
            .unwrap_or_else(|| RequestId::Counter(self.next_id.fetch_add(1, Ordering::Relaxed)));
        let (sink, progress) = if submit.progress {
            let (tx, rx) = mpsc::channel::<Progress>(PROGRESS_BUFFER);
            let sink: easymlserve_core::ProgressSink = Arc::new(move |p| {
                let _ = tx.try_send(p);
            });
            (Some(sink), Some(rx))
        } else {
            (None, None)
        };
        if loaded.inline {
            let mut ctx = Context::new(id.clone());
            if let Some(sink) = sink {
                ctx = ctx.with_progress(sink);
            }
            let outcome = self.run_inline(loaded, Item::new(request.0, ctx));
            return Ok(Execution::done(
                id,
                progress,
                outcome,
                Arc::clone(&self.metrics),
                report,
            ));
        }
        let cancel = CancelFlag::new();
        let enqueued = Instant::now();
        let timeout = submit.timeout.unwrap_or(self.size.timeout);
        let mut ctx = Context::new(id.clone())
            .with_deadline(enqueued + timeout)
            .with_cancel(cancel.clone());
        if let Some(sink) = sink {
            ctx = ctx.with_progress(sink);
        }
        let ticket = Ticket::new(cancel);
        let (reply, outcome) = oneshot::channel();
        let job = Job {
            request: request.0,
            ctx,
            enqueued,
            seq: 0,
            ticket: Arc::clone(&ticket),
            reply,
        };
        let seq = if loaded.tasks {
            self.spawn_task(loaded, job)?
        } else {
            self.enqueue(job)?
        };
        Ok(Execution::queued(Parts {
            id,
            progress,
            outcome,
            timeout,
            position: (Arc::clone(&self.order), seq),
            guard: AbandonOnDrop::new(ticket, Arc::clone(&self.metrics)),
            metrics: Arc::clone(&self.metrics),
            report,
        }))
    }

    /// Puts `job` in the queue and returns its number in the queue's order.
    fn enqueue(&self, mut job: Job) -> Result<u64, ExecError> {
        let queue = read(&self.queue);
        let Some(tx) = queue.as_ref() else {
            return Err(ExecError::ShuttingDown);
        };
        self.metrics.queue_depth().inc();
        let mut number = 0;
        let sent = self.order.enqueue(|seq| {
            number = seq;
            job.seq = seq;
            // Only the kind of failure leaves the closure; the refused job is dropped here.
            tx.try_send(job).map_err(|err| matches!(err, TrySendError::Full(_)))
        });
        match sent {
            Ok(()) => Ok(number),
            Err(full) => {
                self.metrics.queue_depth().dec();
                Err(if full {
                    ExecError::QueueFull {
                        capacity: self.size.queue_capacity,
                    }
                } else {
                    ExecError::ShuttingDown
                })
            }
        }
    }

    /// Runs the backend on the calling thread: no queue, no hand-off, no timeout.
    fn run_inline(&self, loaded: &Loaded, item: Item) -> Result<bytes::Bytes, ExecError> {
        self.metrics.busy_workers().inc();
        let started = Instant::now();
        let outcome = pool::run_one(&*loaded.backend, item);
        self.metrics.record_model_time(started.elapsed());
        self.metrics.busy_workers().dec();
        outcome.map_err(ExecError::from)
    }

    /// Threads that run the model: the worker threads, or for an inline backend the runtime's threads
    /// (0 before the model is loaded).
    pub fn workers(&self) -> usize {
        self.workers.get().copied().unwrap_or(0)
    }

    pub(crate) fn queue_capacity(&self) -> usize {
        self.size.queue_capacity
    }
}

/// Counts and logs a failed request once, when its caller learns of it.
fn report(metrics: &Metrics, id: &RequestId, err: &ExecError) {
    if let Some(kind) = err.failure_kind() {
        metrics.record_model_failure(kind);
    }
    match err {
        ExecError::ModelFailed(detail) => tracing::error!(request_id = %id, %detail, "model returned an error"),
        ExecError::ModelPanicked(detail) => {
            tracing::error!(request_id = %id, %detail, "model panicked; the worker lives on");
        }
        ExecError::WorkerCrashed(detail) => tracing::error!(request_id = %id, %detail, "model worker crashed"),
        _ => {}
    }
}
