//! # easymlserve
//!
//! Turn a trained model into a REST service, in a few lines of Rust. You write a [`Service`]: load the
//! model once, then answer typed JSON requests. easymlserve validates requests against the request
//! type's JSON Schema (errors name the field), queues them for a pool of model worker threads, and
//! serves `POST /process`, `GET /api/spec`, `GET /openapi.json`, `GET /docs`, health probes and
//! Prometheus metrics, with API keys and graceful shutdown.
//!
//! ## A whole service
//!
//! ```no_run
//! use easymlserve::prelude::*;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Request { text: String, #[schemars(range(min = 1, max = 10))] repeat: u32 }
//!
//! #[derive(Serialize, JsonSchema)]
//! struct Response { text: String }
//!
//! struct Echo;
//!
//! impl Service for Echo {
//!     type Request = Request;
//!     type Response = Response;
//!     fn process(&self, r: Request) -> Result<Response, ServiceError> {
//!         Ok(Response { text: r.text.repeat(r.repeat as usize) })
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode { Server::new(Echo).run() }
//! ```
//!
//! `cargo run` it, then `curl -s localhost:8000/process -H 'content-type: application/json'
//! -d '{"text": "hi", "repeat": 3}'` answers `{"text":"hihihi"}`, and a `repeat` of 11 answers 422
//! with ``"`repeat` must be at most 10, got 11"``. The binary also takes `--port`, `--host`,
//! `--workers`, `--queue-capacity`, `--timeout-secs`, `--body-limit`, `--api-keys-file` (or their
//! `EASYMLSERVE_*` variables), and `openapi` prints the OpenAPI document.
//!
//! ## Calling it from Rust, and testing it
//!
//! [`Server::serve_with_shutdown`] serves on any listener until a future completes, and [`Client`]
//! speaks the REST contract:
//!
//! ```
//! use easymlserve::prelude::*;
//! use serde_json::{Value, json};
//!
//! /// A raw-JSON service: `serde_json::Value` in and out, no schema.
//! struct Upper;
//!
//! impl Service for Upper {
//!     type Request = Value;
//!     type Response = Value;
//!     fn process(&self, request: Value) -> Result<Value, ServiceError> {
//!         let text = request["text"].as_str().ok_or_else(|| ServiceError::invalid_field("text", "must be a string"))?;
//!         Ok(json!({"text": text.to_uppercase()}))
//!     }
//! }
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let url = format!("http://{}", listener.local_addr()?);
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = tokio::spawn(Server::new(Upper).serve_with_shutdown(listener, async { let _ = stopped.await; }));
//!
//! let client = Client::new(url)?;
//! while client.ready().await.is_err() { tokio::time::sleep(std::time::Duration::from_millis(5)).await; }
//! assert_eq!(client.process_json(&json!({"text": "hi"})).await?, json!({"text": "HI"}));
//! let err = client.process_json(&json!({"text": 1})).await.unwrap_err();
//! assert_eq!((err.status(), err.error_type()), (Some(422), Some("invalid_input")));
//!
//! let _ = stop.send(());
//! server.await??;
//! # Ok(()) }
//! ```
//!
//! ## Long work: progress and cancellation
//!
//! A service that runs for a while overrides [`Service::process_with`] and gets a [`Context`]: the
//! request id, the deadline, a cancellation flag the server sets when the caller leaves or the timeout
//! passes, and progress reports for whoever listens.
//!
//! ```
//! use easymlserve::prelude::*;
//!
//! #[derive(Deserialize, JsonSchema)]
//! struct Request { steps: u32 }
//!
//! #[derive(Serialize, JsonSchema)]
//! struct Response { done: u32 }
//!
//! struct Slow;
//! impl Service for Slow {
//!     type Request = Request;
//!     type Response = Response;
//!     fn process(&self, r: Request) -> Result<Response, ServiceError> { self.process_with(r, &Context::detached()) }
//!     fn process_with(&self, r: Request, ctx: &Context) -> Result<Response, ServiceError> {
//!         for step in 0..r.steps {
//!             ctx.check_cancelled()?;
//!             ctx.progress(f64::from(step + 1) / f64::from(r.steps), format!("step {}", step + 1));
//!         }
//!         Ok(Response { done: r.steps })
//!     }
//! }
//!
//! assert_eq!(Slow.process(Request { steps: 3 }).unwrap().done, 3);
//! ```
//!
//! ## Feature flags
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `server` | yes | [`Server`], the REST server (axum + tokio) |
//! | `client` | yes | [`Client`], the typed HTTP client (reqwest) |
//! | `web` | yes | the web GUI: [`ServeUi::with_ui`] on a server, or a standalone [`WebUi`] |
//! | `desktop` | no | the native desktop GUI, `DesktopUi` (egui); needs no GPU |
//! | `ui` | with `web` or `desktop` | the UI contract ([`ui`]: `Ui`, inputs, outputs, images, tables, plots) |
//!
//! Without features this crate is only the contract (`Service`, `ServiceError`), which a model crate can
//! implement without compiling an HTTP stack.

#[cfg(feature = "web")]
mod gui;

pub use easymlserve_core as core;
pub use easymlserve_core::{
    CancelFlag, Capabilities, Context, ErrorBody, ModelCopies, Progress, RequestId, Service, ServiceError, ServiceInfo,
    ServiceSpec, schemars,
};
#[cfg(feature = "ui")]
pub use easymlserve_ui as ui;
pub use serde;
pub use serde_json;

#[cfg(feature = "client")]
pub use easymlserve_client::{Client, ClientError};
#[cfg(feature = "desktop")]
pub use easymlserve_desktop::DesktopUi;
#[cfg(feature = "server")]
pub use easymlserve_server as server;
#[cfg(feature = "server")]
pub use easymlserve_server::{ApiKeys, Backend, Server, ServerConfig, Validator};
#[cfg(feature = "web")]
pub use easymlserve_web::WebUi;
#[cfg(feature = "web")]
pub use gui::ServeUi;

/// The names most services need: `use easymlserve::prelude::*;`.
pub mod prelude {
    pub use easymlserve_core::schemars::JsonSchema;
    pub use easymlserve_core::{Context, Service, ServiceError, ServiceInfo};
    #[cfg(feature = "ui")]
    pub use easymlserve_ui::{Input, InputValues, Output, OutputValue, OutputValues, Plot, Series, Ui, UiError};
    pub use serde::{Deserialize, Serialize};

    #[cfg(feature = "desktop")]
    pub use crate::DesktopUi;
    #[cfg(feature = "web")]
    pub use crate::{ServeUi, WebUi};
    #[cfg(feature = "client")]
    pub use easymlserve_client::Client;
    #[cfg(feature = "server")]
    pub use easymlserve_server::{Server, ServerConfig};
}

/// The Rust code blocks of the repository's README, compiled (and run, unless marked `no_run`) as
/// doc-tests, so the README cannot drift from the API. Never built outside `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
