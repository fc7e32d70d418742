//! `PythonBackend`: a Python service served by supervised worker processes, one model copy each.
//! Loading starts them all in parallel and is done once every one has loaded its model; a request
//! leases an idle worker; a crash fails that request only and the worker restarts in the background.
//!
//! Requests run on the server's runtime (`runs_async`): the task that read the request leases a
//! worker, writes the frame and waits for the answer on the worker's socket, with no thread in
//! between. Batches come from the engine's worker threads (`run_batch`), which drive the same code
//! with `Handle::block_on`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use easymlserve_core::ServiceSpec;
use easymlserve_server::{Backend, Item, LoadError, ModelError, RunFuture};

use crate::pool::Supervisor;
use crate::process::{Launch, StartError, WorkerProcess};
use crate::request;
use crate::sdk::Sdk;
use crate::spawner::Spawner;

/// How long shutdown waits for busy workers to finish their requests.
const DRAIN: Duration = Duration::from_secs(30);
/// How long a worker has to exit after `shutdown`.
const EXIT_GRACE: Duration = Duration::from_secs(5);

/// How to run a Python service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonConfig {
    /// The service: `path/to/service.py`, or `path/to/service.py:ClassName` when the file defines
    /// several services.
    pub service: String,
    /// The Python interpreter, which must have pydantic installed (default `python3` on `PATH`).
    pub python_bin: PathBuf,
    /// Worker processes, each with its own copy of the model (default 2).
    pub workers: usize,
    /// How long a worker may take to import the service and run `load_model()` (default 120 s).
    pub start_timeout: Duration,
    /// How long a cancelled request's worker has to stop before it is killed and restarted
    /// (default 2 s).
    pub cancel_grace: Duration,
}

impl Default for PythonConfig {
    fn default() -> Self {
        Self {
            service: String::new(),
            python_bin: PathBuf::from("python3"),
            workers: 2,
            start_timeout: Duration::from_secs(120),
            cancel_grace: Duration::from_secs(2),
        }
    }
}

impl PythonConfig {
    /// The default configuration for `service` (`file.py[:ClassName]`).
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            ..Self::default()
        }
    }
}

/// Serves a Python service from worker processes running `python -m easymlserve.worker`.
pub struct PythonBackend {
    config: PythonConfig,
    running: Option<Running>,
}

struct Running {
    supervisor: Arc<Supervisor>,
    batching: bool,
    next_batch: AtomicU64,
    runtime: tokio::runtime::Handle,
    /// The runtime of a backend loaded outside one (kept alive with it); `None` under a server.
    _own_runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for PythonBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PythonBackend")
            .field("config", &self.config)
            .field("running", &self.running.is_some())
            .finish()
    }
}

impl PythonBackend {
    /// A backend for `config`; nothing starts before [`Backend::load`].
    pub fn new(config: PythonConfig) -> Self {
        Self { config, running: None }
    }

    /// The process ids of the workers idle now (a diagnostic for tests and logs).
    pub fn idle_worker_pids(&self) -> Vec<u32> {
        self.running
            .as_ref()
            .map_or_else(Vec::new, |running| running.supervisor.idle_pids())
    }

    fn running(&self) -> Result<&Running, ModelError> {
        self.running
            .as_ref()
            .ok_or_else(|| ModelError::Failed("the Python workers are not started".to_owned()))
    }
}

impl Backend for PythonBackend {
    fn load(&mut self) -> Result<ServiceSpec, LoadError> {
        if self.config.service.is_empty() {
            return Err(LoadError::new("no Python service given (file.py[:ClassName])"));
        }
        if self.config.workers == 0 {
            return Err(LoadError::new("a Python service needs at least one worker process"));
        }
        let (runtime, own_runtime) = runtime()?;
        let sdk = Sdk::extract()
            .map_err(|err| LoadError::new(format!("cannot write the Python SDK to a temporary directory: {err}")))?;
        let spawner =
            Spawner::new().map_err(|err| LoadError::new(format!("cannot start the worker spawning thread: {err}")))?;
        let launch = Launch {
            python_bin: self.config.python_bin.clone(),
            service: self.config.service.clone(),
            sdk_dir: sdk.path().to_owned(),
            worker_id: 0,
            start_timeout: self.config.start_timeout,
        };
        tracing::info!(
            service = %self.config.service,
            python = %self.config.python_bin.display(),
            workers = self.config.workers,
            "starting the Python workers"
        );
        let started: Vec<Result<(WorkerProcess, ServiceSpec), StartError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..self.config.workers)
                .map(|worker_id| {
                    let mut launch = launch.clone();
                    launch.worker_id = worker_id;
                    let spawner = &spawner;
                    let runtime = &runtime;
                    scope.spawn(move || WorkerProcess::start(&launch, spawner, runtime))
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle.join().unwrap_or_else(|_| {
                        Err(StartError::Protocol(
                            "the thread starting the worker panicked".to_owned(),
                        ))
                    })
                })
                .collect()
        });
        let mut workers = Vec::with_capacity(started.len());
        let mut spec = None;
        let mut failure = None;
        for (worker_id, outcome) in started.into_iter().enumerate() {
            match outcome {
                Ok((worker, worker_spec)) => {
                    spec.get_or_insert(worker_spec);
                    workers.push(worker);
                }
                Err(err) => {
                    log_start_failure(worker_id, &err);
                    failure.get_or_insert(err);
                }
            }
        }
        if let Some(err) = failure {
            // Dropping the workers kills them; the spawning thread and the SDK go too.
            drop(workers);
            spawner.close();
            return Err(match err {
                StartError::SetupFailed { error, .. } => LoadError::new(error),
                other => LoadError::new(format!("the Python worker did not start: {other}")),
            });
        }
        let Some(spec) = spec else {
            return Err(LoadError::new("no Python worker started"));
        };
        let batching = spec.capabilities.batching;
        let supervisor = Arc::new(Supervisor::new(launch, spawner, sdk, workers, runtime.clone()));
        self.running = Some(Running {
            supervisor,
            batching,
            next_batch: AtomicU64::new(1),
            runtime,
            _own_runtime: own_runtime,
        });
        Ok(spec)
    }

    fn runs_async(&self) -> bool {
        true
    }

    fn run_async(&self, item: Item) -> RunFuture {
        let supervisor = self.running().map(|running| Arc::clone(&running.supervisor));
        let grace = self.config.cancel_grace;
        Box::pin(async move { predict(&supervisor?, item, grace, None).await })
    }

    /// The blocking form (a caller on its own thread, outside the runtime): the same run, with the
    /// cancellation flag checked every 20 ms, since nobody polls the future again on a cancel.
    fn run(&self, item: Item) -> Result<Bytes, ModelError> {
        let running = self.running()?;
        let future = predict(&running.supervisor, item, self.config.cancel_grace, Some(request::TICK));
        running.runtime.block_on(future)
    }

    fn run_batch(&self, items: Vec<Item>) -> Vec<Result<Bytes, ModelError>> {
        let running = match self.running() {
            Ok(running) => running,
            Err(err) => return vec![Err(err); items.len()],
        };
        if !running.batching || items.len() < 2 {
            return items.into_iter().map(|item| self.run(item)).collect();
        }
        let batch_id = format!("batch-{:x}", running.next_batch.fetch_add(1, Ordering::Relaxed));
        let grace = self.config.cancel_grace;
        running.runtime.block_on(async move {
            let all_cancelled = || items.iter().all(|item| item.ctx.is_cancelled());
            let mut lease = match running.supervisor.lease(all_cancelled, Some(request::TICK)).await {
                Ok(lease) => lease,
                Err(err) => return vec![Err(err); items.len()],
            };
            let (outcomes, health) =
                request::predict_batch(lease.worker(), items, batch_id, grace, Some(request::TICK)).await;
            lease.finish(health);
            outcomes
        })
    }

    fn shutdown(&self) {
        if let Some(running) = &self.running {
            running.supervisor.shutdown(DRAIN, EXIT_GRACE);
        }
    }
}

impl Drop for PythonBackend {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.supervisor.kill_all();
        }
    }
}

/// One request: lease a worker (giving up if the request is cancelled first), tell the engine it has
/// left the queue, run, give the worker back.
async fn predict(
    supervisor: &Arc<Supervisor>,
    mut item: Item,
    grace: Duration,
    tick: Option<Duration>,
) -> Result<Bytes, ModelError> {
    let mut lease = supervisor.lease(|| item.ctx.is_cancelled(), tick).await?;
    if !item.started() {
        // The caller left just as the worker came: the worker goes to the next request untouched.
        lease.finish(crate::pool::Health::Healthy);
        return Err(ModelError::Cancelled);
    }
    let (outcome, health) = request::predict(lease.worker(), item, grace, tick).await;
    lease.finish(health);
    outcome
}

/// The runtime the workers' sockets live on: the server's (loading runs on one of its blocking
/// threads), or one of the backend's own when it is loaded outside a runtime.
fn runtime() -> Result<(tokio::runtime::Handle, Option<tokio::runtime::Runtime>), LoadError> {
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        return Ok((handle, None));
    }
    let own = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("easymlserve-python-io")
        .enable_io()
        .enable_time()
        .build()
        .map_err(|err| LoadError::new(format!("cannot start the runtime of the worker sockets: {err}")))?;
    Ok((own.handle().clone(), Some(own)))
}

fn log_start_failure(worker_id: usize, err: &StartError) {
    match err {
        StartError::SetupFailed { error, traceback } => {
            tracing::error!(worker = worker_id, %traceback, "the Python service failed to load: {error}");
        }
        other => tracing::error!(worker = worker_id, "the Python worker did not start: {other}"),
    }
}
