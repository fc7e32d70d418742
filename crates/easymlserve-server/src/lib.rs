//! The easymlserve REST server: serves any model with validation, a bounded worker pool, timeouts,
//! health probes, metrics, API keys, OpenAPI docs and graceful shutdown.
//!
//! Its middle is one non-generic execution core: a [`Backend`] (a typed Rust
//! [`Service`](easymlserve_core::Service) through [`TypedBackend`], or any model whose schemas are known
//! only once it has loaded) driven by the [`Engine`]; the REST routes and mounted GUIs are built on the
//! spec the backend reports at run time. Most users reach this through the `easymlserve` crate:
//! `Server::new(service).run()`.

mod auth;
mod backend;
mod config;
mod cors;
mod deadline;
mod engine;
mod error;
mod extract;
mod handlers;
mod ids;
pub mod jobs;
pub mod logging;
mod metrics;
mod observe;
pub mod oip;
mod openapi;
mod routes;
mod server;
mod state;
mod tied;
mod typed;
mod validate;

pub use auth::ApiKeys;
pub use backend::{Backend, Item, LoadError, ModelError, RunFuture};
pub use config::{ConfigError, ENV_API_KEYS, ENV_API_KEYS_FILE, ServeArgs, ServerConfig};
pub use cors::CorsOrigins;
pub use deadline::BodyDeadlineExceeded;
pub use engine::{Batching, Engine, Event, ExecError, Execution, Readiness, Submit, Valid};
pub use error::ApiError;
pub use extract::read_json_body;
pub use openapi::openapi_document;
pub use routes::{Mount, MountContext, SpecSource, router, router_with};
pub use server::{Dynamic, Server, ServerError, shutdown_signal};
pub use state::{AppState, UiSpecFn};
pub use tied::Accepts;
pub use typed::TypedBackend;
pub use validate::{Invalid, RequestError, SchemaError, Validator, deserialize, from_value, parse_request};
