//! `Server`: the one-line way to serve a model, with graceful shutdown and a command line. A typed
//! `Server<S>` keeps its service's type (so what is attached to it can be checked against it); the
//! middle of the server is the same non-generic engine for every kind of model.

use std::future::{Future, IntoFuture};
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use easymlserve_core::{Service, ServiceSpec};
use tokio::net::TcpListener;

use crate::backend::Backend;
use crate::config::{ConfigError, ServeArgs, ServerConfig};
use crate::engine::ExecError;
use crate::jobs::DrainReport;
use crate::logging;
use crate::routes::{Mount, MountContext, SpecSource, router_with};
use crate::state::{AppState, UiSpecFn};
use crate::typed::TypedBackend;

/// How long, after the jobs drained, the event streams of the jobs stopped get to send their last event.
const STREAM_FLUSH: Duration = Duration::from_millis(500);

/// The service type of a server built from a [`Backend`] whose types are known only at run time.
#[derive(Debug, Clone, Copy)]
pub enum Dynamic {}

/// Serves a model over REST: `Server::new(service).run()`, or `Server::from_backend(backend)`.
pub struct Server<S = Dynamic> {
    backend: Box<dyn Backend>,
    config: ServerConfig,
    ui_spec: Option<UiSpecFn>,
    mounts: Vec<MountFn>,
    on_listening: Option<Box<dyn FnOnce(SocketAddr) + Send>>,
    service: PhantomData<fn() -> S>,
}

type MountFn = Box<dyn FnOnce(MountContext) -> Mount + Send>;

/// Why a server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("the HTTP server failed: {0}")]
    Serve(#[from] std::io::Error),
    /// The model could not be loaded (when loading was needed to answer, as for `openapi`).
    #[error("the model could not be loaded: {0}")]
    Load(#[from] ExecError),
}

#[derive(Debug, Parser)]
#[command(
    about = "Serve this model over REST (docs at /docs).",
    args_conflicts_with_subcommands = true
)]
struct RunCli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the model (the default).
    Serve(Box<ServeArgs>),
    /// Print the OpenAPI document and exit.
    Openapi,
}

impl<S: Service> Server<S> {
    /// A server for a typed `service` with the default configuration.
    pub fn new(service: S) -> Self {
        Self::with_backend(Box::new(TypedBackend::new(service)))
    }
}

impl Server<Dynamic> {
    /// A server for any backend: its spec (schemas, info) becomes known when it has loaded.
    pub fn from_backend(backend: impl Backend) -> Self {
        Self::with_backend(Box::new(backend))
    }
}

impl<S> Server<S> {
    fn with_backend(backend: Box<dyn Backend>) -> Self {
        Self {
            backend,
            config: ServerConfig::default(),
            ui_spec: None,
            mounts: Vec::new(),
            on_listening: None,
            service: PhantomData,
        }
    }

    /// Adds routes built from an in-process caller of the model (the web GUI uses this). Several
    /// route sets may be mounted; `/` leads to the first one that names a home page.
    #[must_use]
    pub fn mount(mut self, build: impl FnOnce(MountContext) -> Mount + Send + 'static) -> Self {
        self.mounts.push(Box::new(build));
        self
    }

    /// Sets what `/api/spec` publishes as the UI components, built from the loaded spec.
    #[must_use]
    pub fn ui_spec(
        mut self,
        build: impl Fn(&ServiceSpec) -> Option<serde_json::Value> + Send + Sync + 'static,
    ) -> Self {
        self.ui_spec = Some(Arc::new(build));
        self
    }

    /// Replaces the configuration set in code (environment and flags still apply in [`Server::run`]).
    #[must_use]
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// The configuration, to change single values.
    pub fn config_mut(&mut self) -> &mut ServerConfig {
        &mut self.config
    }

    /// Calls `f` with the bound address once the server listens (a welcome message, say).
    #[must_use]
    pub fn on_listening(mut self, f: impl FnOnce(SocketAddr) + Send + 'static) -> Self {
        self.on_listening = Some(Box::new(f));
        self
    }

    /// The spec the backend knows without loading (a typed service's), for GUIs built from it.
    pub fn describe(&self) -> Option<ServiceSpec> {
        self.backend.describe()
    }

    /// The router state, for tests and embedding; the model is not loaded yet.
    pub fn into_state(self) -> AppState {
        self.into_parts().0
    }

    /// The state and the router, mounts included; the model is not loaded yet.
    pub fn into_parts(self) -> (AppState, axum::Router) {
        let state = AppState::new(self.backend, &self.config, self.ui_spec);
        let loaded = state.clone();
        let spec: SpecSource = Arc::new(move || loaded.spec().cloned());
        let mounts = self
            .mounts
            .into_iter()
            .map(|build| {
                build(MountContext {
                    caller: Arc::new(state.clone()),
                    auth_required: self.config.api_keys.is_enabled(),
                    body_limit: self.config.body_limit,
                    spec: Arc::clone(&spec),
                    cache_examples: self.config.cache_examples,
                })
            })
            .collect();
        let router = router_with(state.clone(), mounts);
        (state, router)
    }

    /// The OpenAPI document: from the spec the backend knows without loading, or else by loading
    /// the model (a Python or ONNX model's schemas exist only then).
    pub fn openapi(self) -> Result<serde_json::Value, ServerError> {
        let state = self.into_state();
        if let Some(document) = state.openapi() {
            return Ok(document);
        }
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        runtime.block_on(state.load())?;
        let document = state.openapi();
        state.engine().close();
        document.ok_or(ServerError::Load(ExecError::Loading))
    }

    /// Serves on `listener` until Ctrl-C or SIGTERM, with the configuration set in code.
    pub async fn serve(self, listener: TcpListener) -> Result<(), ServerError> {
        self.serve_with_shutdown(listener, shutdown_signal()).await
    }

    /// Serves on `listener` until `signal` completes, then drains and returns.
    ///
    /// The model loads in the background: liveness answers at once, readiness once it is loaded.
    ///
    /// The drain, in order: readiness (`/health/ready`, `/v2/health/ready`, `/v2/models/{m}/ready`)
    /// answers 503 at once while every other route keeps serving for
    /// [`ServerConfig::shutdown_delay`] (a second Ctrl-C or SIGTERM skips the rest of it); then the
    /// listener closes, idle connections are closed and in-flight requests, streams included, get
    /// [`ServerConfig::shutdown_timeout`] to finish before they are cut. New jobs are refused (503
    /// `shutting_down`) from the close; the jobs this replica runs get the same timeout, then the
    /// unfinished ones are handed back to a Redis store for another replica, or fail with
    /// `shutting_down` (memory store), and the streams following them send that last event (up to a
    /// few seconds past the timeout). Then the model's workers stop. Liveness stays 200 throughout.
    pub async fn serve_with_shutdown<F>(mut self, listener: TcpListener, signal: F) -> Result<(), ServerError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.config.validate()?;
        let name = self
            .backend
            .describe()
            .map_or_else(|| "model".to_owned(), |spec| spec.info.name);
        let on_listening = self.on_listening.take();
        let (delay, timeout) = (self.config.shutdown_delay, self.config.shutdown_timeout);
        let (state, app) = self.into_parts();
        let loader = state.clone();
        tokio::spawn(async move {
            let _ = loader.load().await;
        });
        let addr = listener.local_addr()?;
        tracing::info!(service = %name, "listening on http://{addr} (docs at http://{addr}/docs)");
        if let Some(f) = on_listening {
            f(addr);
        }
        let (closed_tx, mut closed) = tokio::sync::watch::channel(None::<Instant>);
        let stopping = drain_then_close(state.clone(), signal, delay, closed_tx);
        let serve = axum::serve(listener, app)
            .with_graceful_shutdown(stopping)
            .into_future();
        // The jobs drain while the connections finish, so that a client following a job's events reads
        // its terminal event (or hand-back) before its stream ends, not a cut connection.
        let (drained_tx, mut drained) = tokio::sync::watch::channel(None::<DrainReport>);
        let drain = tokio::spawn({
            let jobs = Arc::clone(state.jobs());
            let mut closed = closed.clone();
            async move {
                let at = closed
                    .wait_for(Option::is_some)
                    .await
                    .ok()?
                    .unwrap_or_else(Instant::now);
                let report = jobs.drain(at + timeout).await;
                let _ = drained_tx.send(Some(report));
                Some(report)
            }
        });
        let cut = async {
            let at = closed
                .wait_for(Option::is_some)
                .await
                .map(|at| at.unwrap_or_else(Instant::now));
            let Ok(at) = at else {
                return std::future::pending::<()>().await;
            };
            let report = drained.wait_for(Option::is_some).await.ok().and_then(|report| *report);
            if report.is_some_and(|report| report.failed + report.handed_back > 0) {
                // The streams following the stopped jobs send their last event.
                tokio::time::sleep(STREAM_FLUSH).await;
            }
            tokio::time::sleep_until((at + timeout).into()).await;
        };
        tokio::select! {
            served = serve => served?,
            () = cut => tracing::warn!(
                in_flight = state.metrics.in_flight().get(),
                "shutdown timeout reached: cutting the requests still in flight"
            ),
        }
        tracing::info!("in-flight requests finished");
        // Every connection may have ended before the jobs did: the drain still has its time.
        let report = drain.await.ok().flatten().unwrap_or_default();
        tracing::info!("{report}");
        // Closing waits for the backend to stop (Python workers: up to their shutdown grace) while
        // requests left in flight may still be tasks on this runtime: wait off its threads.
        let engine = Arc::clone(state.engine());
        if tokio::task::spawn_blocking(move || engine.close()).await.is_err() {
            tracing::error!("closing the model backend panicked");
        }
        tracing::info!("server stopped");
        Ok(())
    }

    /// Parses the command line and environment, sets up logging, and serves until Ctrl-C or SIGTERM.
    ///
    /// `<binary> [serve] [--host H] [--port P] ...` serves; `<binary> openapi` prints the OpenAPI
    /// document. Flags win over `EASYMLSERVE_*` variables, which win over the configuration in code.
    pub fn run(self) -> ExitCode {
        let cli = RunCli::parse();
        let outcome = match cli.command {
            Some(Command::Openapi) => self.print_openapi(),
            Some(Command::Serve(args)) => self.run_with(*args),
            None => self.run_with(cli.serve),
        };
        match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                tracing::error!("{err}");
                eprintln!("error: {err}");
                ExitCode::FAILURE
            }
        }
    }

    /// Prints the OpenAPI document on standard output (the `openapi` subcommand).
    pub fn print_openapi(self) -> Result<(), ServerError> {
        let document = self.openapi()?;
        let text = serde_json::to_string_pretty(&document).map_err(|e| ServerError::Serve(e.into()))?;
        println!("{text}");
        Ok(())
    }

    /// Serves with command-line flags parsed by the caller (an app that flattens [`ServeArgs`] into
    /// its own command line): sets up logging, starts the runtime, binds, serves until Ctrl-C or
    /// SIGTERM.
    pub fn run_with(mut self, args: ServeArgs) -> Result<(), ServerError> {
        logging::init_as(args.log_format.unwrap_or_default());
        self.config = args.apply(self.config)?;
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        runtime.block_on(async move {
            let addr = self.config.addr();
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| ServerError::Bind { addr, source })?;
            self.serve(listener).await
        })
    }
}

/// The graceful-shutdown future of [`Server::serve_with_shutdown`]: waits for `signal`, drains for
/// `delay` (readiness 503, everything else served), then lets the listener close and records when.
async fn drain_then_close<F>(
    state: AppState,
    signal: F,
    delay: Duration,
    closed: tokio::sync::watch::Sender<Option<Instant>>,
) where
    F: Future<Output = ()> + Send + 'static,
{
    signal.await;
    state.start_draining();
    tracing::info!(
        delay_secs = delay.as_secs_f64(),
        "shutting down: draining (readiness answers 503, requests are still served until the listener closes)"
    );
    tokio::select! {
        () = tokio::time::sleep(delay) => {}
        () = shutdown_signal() => tracing::info!("second signal: skipping the rest of the drain delay"),
    }
    state.engine().stop_accepting();
    state.jobs().stop_accepting();
    let _ = closed.send(Some(Instant::now()));
    tracing::info!(
        in_flight = state.metrics.in_flight().get(),
        "listener closed: finishing the requests in flight"
    );
}

/// Completes on Ctrl-C, or on SIGTERM where there are Unix signals.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
