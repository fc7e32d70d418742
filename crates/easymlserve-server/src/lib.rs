//! The easymlserve REST server: serves a [`Service`](easymlserve_core::Service) with validation, a
//! bounded worker pool, timeouts, health probes, metrics, API keys, OpenAPI docs and graceful shutdown.
//!
//! Most users reach this through the `easymlserve` crate: `Server::new(service).run()`.

mod auth;
mod config;
mod cors;
mod deadline;
mod engine;
mod error;
mod extract;
pub mod logging;
mod metrics;
mod observe;
mod openapi;
mod routes;
mod server;
mod state;
mod validate;

pub use auth::ApiKeys;
pub use config::{ConfigError, ENV_API_KEYS, ENV_API_KEYS_FILE, ServeArgs, ServerConfig};
pub use cors::CorsOrigins;
pub use deadline::BodyDeadlineExceeded;
pub use engine::{Batching, Engine, Readiness};
pub use error::ApiError;
pub use extract::{ValidJson, read_json_body};
pub use openapi::openapi_document;
pub use routes::{Mount, MountContext, router, router_with};
pub use server::{Server, ServerError, shutdown_signal};
pub use state::AppState;
pub use validate::{Invalid, RequestError, SchemaError, Validator, deserialize, from_value, parse_request};
