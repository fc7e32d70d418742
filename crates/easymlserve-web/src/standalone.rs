//! `WebUi`: the web GUI as its own process, talking to a service elsewhere over REST (the paper's
//! deployment): `WebUi::new(ui).service_url(url).run()`.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use clap::Parser;
use easymlserve_client::Client;
use easymlserve_ui::{GuiSource, Ui};
use tokio::net::TcpListener;

use crate::routes::ui_routes;
use crate::runner::{PageInfo, UiRunner};

/// Why a standalone GUI could not start.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// No service URL was given.
    #[error("no service URL: pass --url or set EASYMLSERVE_URL")]
    NoServiceUrl,
    /// The service URL or API key is unusable, or the service's spec could not be fetched.
    #[error(transparent)]
    Client(#[from] easymlserve_client::ClientError),
    /// Binding or serving failed.
    #[error("the web GUI server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A standalone web GUI for a remote service.
pub struct WebUi {
    source: GuiSource,
    service_url: Option<String>,
    api_key: Option<String>,
    host: IpAddr,
    port: u16,
    body_limit: usize,
}

#[derive(Debug, Parser)]
#[command(about = "Serve a web GUI for an easymlserve service.")]
struct WebArgs {
    /// Base URL of the service.
    #[arg(long, env = "EASYMLSERVE_URL")]
    url: Option<String>,
    /// Address the GUI binds [default: 127.0.0.1].
    #[arg(long, env = "EASYMLSERVE_UI_HOST")]
    host: Option<IpAddr>,
    /// Port the GUI binds [default: 8080].
    #[arg(long, env = "EASYMLSERVE_UI_PORT")]
    port: Option<u16>,
}

impl WebUi {
    /// A GUI running `ui`.
    pub fn new(ui: impl Ui) -> Self {
        Self::from_source(GuiSource::given(ui))
    }

    /// A GUI generated from the service's request schema (fetched from `/api/spec` at start).
    pub fn generated() -> Self {
        Self::from_source(GuiSource::FromServiceSchema)
    }

    fn from_source(source: GuiSource) -> Self {
        Self {
            source,
            service_url: None,
            api_key: std::env::var("EASYMLSERVE_API_KEY").ok().filter(|k| !k.is_empty()),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8080,
            body_limit: 32 * 1024 * 1024,
        }
    }

    /// The service's base URL, such as `http://gpu-box:8000`.
    #[must_use]
    pub fn service_url(mut self, url: impl Into<String>) -> Self {
        self.service_url = Some(url.into());
        self
    }

    /// The API key sent to the service (also read from `EASYMLSERVE_API_KEY`). It stays on the server.
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The port the GUI listens on (8080 by default).
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The largest upload in bytes (32 MiB by default).
    #[must_use]
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }

    /// The GUI's router, for embedding and tests. Fetches the service spec for a generated UI.
    pub async fn into_router(self) -> Result<Router, WebError> {
        let url = self.service_url.ok_or(WebError::NoServiceUrl)?;
        let mut client = Client::new(url.clone())?;
        if let Some(key) = &self.api_key {
            client = client.api_key(key)?;
        }
        let ui = self.source.resolve(|| client.spec()).await?;
        let page = PageInfo {
            process_url: Some(format!("{}/process", client.base_url())),
            auth_required: false,
        };
        let runner = Arc::new(UiRunner::new(ui, Arc::new(client), page, self.body_limit));
        let routes = ui_routes(runner);
        Ok(Router::new()
            .merge(routes.public)
            .merge(routes.protected)
            .route("/", get(|| async { Redirect::temporary("/ui/") }))
            .route(
                "/health/live",
                get(|| async { axum::Json(serde_json::json!({"status": "live"})) }),
            ))
    }

    /// Serves on `listener` until `signal` completes.
    pub async fn serve_with_shutdown<F>(self, listener: TcpListener, signal: F) -> Result<(), WebError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let service = self.service_url.clone().unwrap_or_default();
        let router = self.into_router().await?;
        let addr = listener.local_addr()?;
        tracing::info!("web GUI for {service} listening on http://{addr}/ui/");
        axum::serve(listener, router).with_graceful_shutdown(signal).await?;
        Ok(())
    }

    /// Reads `--url`/`--host`/`--port` (or `EASYMLSERVE_URL`, `EASYMLSERVE_UI_HOST`, `EASYMLSERVE_UI_PORT`)
    /// and serves until Ctrl-C.
    pub fn run(mut self) -> ExitCode {
        let args = WebArgs::parse();
        self.service_url = args.url.or(self.service_url);
        self.host = args.host.unwrap_or(self.host);
        self.port = args.port.unwrap_or(self.port);
        self.run_without_args()
    }

    /// Serves until Ctrl-C with the settings made in code, without reading the command line.
    pub fn run_without_args(self) -> ExitCode {
        let addr = SocketAddr::new(self.host, self.port);
        let outcome = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(WebError::from)
            .and_then(|runtime| {
                runtime.block_on(async move {
                    let listener = TcpListener::bind(addr).await?;
                    let ctrl_c = async {
                        let _ = tokio::signal::ctrl_c().await;
                    };
                    self.serve_with_shutdown(listener, ctrl_c).await
                })
            });
        match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::FAILURE
            }
        }
    }
}
