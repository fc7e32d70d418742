//! `Server`: the one-line way to serve a `Service`, with graceful shutdown and a command line.

use std::future::Future;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use easymlserve_core::Service;
use tokio::net::TcpListener;

use crate::config::{ConfigError, ServeArgs, ServerConfig};
use crate::logging;
use crate::routes::{Mount, MountContext, router_with};
use crate::state::AppState;

/// Serves a [`Service`] over REST: `Server::new(service).run()`.
pub struct Server<S: Service> {
    service: S,
    config: ServerConfig,
    ui_spec: Option<serde_json::Value>,
    mount: Option<MountFn>,
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
        addr: std::net::SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("the HTTP server failed: {0}")]
    Serve(#[from] std::io::Error),
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
    Serve(ServeArgs),
    /// Print the OpenAPI document and exit.
    Openapi,
}

impl<S: Service> Server<S> {
    /// A server for `service` with the default configuration.
    pub fn new(service: S) -> Self {
        Self {
            service,
            config: ServerConfig::default(),
            ui_spec: None,
            mount: None,
        }
    }

    /// Adds routes built from an in-process caller of the model (the web GUI uses this), and the UI
    /// components to publish in `/api/spec`.
    #[must_use]
    pub fn mount(
        mut self,
        ui_spec: Option<serde_json::Value>,
        build: impl FnOnce(MountContext) -> Mount + Send + 'static,
    ) -> Self {
        self.ui_spec = ui_spec;
        self.mount = Some(Box::new(build));
        self
    }

    /// Replaces the configuration set in code (environment and flags still apply in [`Server::run`]).
    #[must_use]
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// The service being served.
    pub fn service(&self) -> &S {
        &self.service
    }

    /// The configuration, to change single values.
    pub fn config_mut(&mut self) -> &mut ServerConfig {
        &mut self.config
    }

    /// The router state, for tests and embedding; the model is not loaded yet.
    pub fn into_state(self) -> AppState<S> {
        self.into_parts().0
    }

    /// The state and the router, mounts included; the model is not loaded yet.
    pub fn into_parts(self) -> (AppState<S>, axum::Router) {
        let state = AppState::with_ui_spec(self.service, &self.config, self.ui_spec);
        let mount = self.mount.map(|build| {
            build(MountContext {
                caller: std::sync::Arc::new(state.clone()),
                auth_required: self.config.api_keys.is_enabled(),
                body_limit: self.config.body_limit,
            })
        });
        let router = router_with(state.clone(), mount);
        (state, router)
    }

    /// Serves on `listener` until Ctrl-C or SIGTERM, with the configuration set in code.
    pub async fn serve(self, listener: TcpListener) -> Result<(), ServerError> {
        self.serve_with_shutdown(listener, shutdown_signal()).await
    }

    /// Serves on `listener` until `signal` completes, then finishes in-flight requests and returns.
    ///
    /// The model loads in the background: liveness answers at once, readiness once `load_model` is done.
    pub async fn serve_with_shutdown<F>(self, listener: TcpListener, signal: F) -> Result<(), ServerError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.config.validate()?;
        let name = self.service.info().name;
        let (state, app) = self.into_parts();
        let loader = state.clone();
        tokio::spawn(async move {
            let _ = loader.load().await;
        });
        let addr = listener.local_addr()?;
        tracing::info!(service = %name, "listening on http://{addr} (docs at http://{addr}/docs)");
        let engine = std::sync::Arc::clone(state.engine());
        let stopping = async move {
            signal.await;
            tracing::info!("shutting down: refusing new requests, finishing the ones in flight");
            engine.stop_accepting();
        };
        axum::serve(listener, app).with_graceful_shutdown(stopping).await?;
        state.engine().close();
        tracing::info!("server stopped");
        Ok(())
    }

    /// Parses the command line and environment, sets up logging, and serves until Ctrl-C or SIGTERM.
    ///
    /// `<binary> [serve] [--host H] [--port P] ...` serves; `<binary> openapi` prints the OpenAPI
    /// document. Flags win over `EASYMLSERVE_*` variables, which win over the configuration in code.
    pub fn run(self) -> ExitCode {
        let cli = RunCli::parse();
        let args = match cli.command {
            Some(Command::Openapi) => {
                let state = self.into_state();
                return match serde_json::to_string_pretty(state.openapi()) {
                    Ok(text) => {
                        println!("{text}");
                        ExitCode::SUCCESS
                    }
                    Err(err) => {
                        eprintln!("error: {err}");
                        ExitCode::FAILURE
                    }
                };
            }
            Some(Command::Serve(args)) => args,
            None => cli.serve,
        };
        logging::init();
        match self.run_with(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                tracing::error!("{err}");
                eprintln!("error: {err}");
                ExitCode::FAILURE
            }
        }
    }

    fn run_with(mut self, args: ServeArgs) -> Result<(), ServerError> {
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
