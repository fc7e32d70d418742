//! `AppState`: what every handler shares: the engine, the validator, the pre-rendered documents.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use easymlserve_core::{BoxFuture, CallError, Service, ServiceCaller, ServiceSpec, Validator, from_value};

use crate::auth::ApiKeys;
use crate::config::ServerConfig;
use crate::cors::CorsOrigins;
use crate::engine::{Engine, PoolSize};
use crate::metrics::Metrics;
use crate::openapi::openapi_document;

/// The shared state of one server's router, behind one `Arc`: handlers and middleware clone it for
/// every request, and one reference count is cheaper than one per field.
pub struct AppState<S: Service>(Arc<Shared<S>>);

/// What [`AppState`] holds.
pub struct Shared<S: Service> {
    pub(crate) engine: Arc<Engine<S>>,
    pub(crate) validator: Validator,
    pub(crate) spec: Bytes,
    pub(crate) openapi: serde_json::Value,
    pub(crate) keys: ApiKeys,
    pub(crate) body_limit: usize,
    pub(crate) read_timeout: Duration,
    pub(crate) cors: CorsOrigins,
    pub(crate) metrics: Arc<Metrics>,
}

impl<S: Service> Clone for AppState<S> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<S: Service> std::ops::Deref for AppState<S> {
    type Target = Shared<S>;

    fn deref(&self) -> &Shared<S> {
        &self.0
    }
}

impl<S: Service> AppState<S> {
    /// State for `service` under `config`. The model is not loaded yet: call [`AppState::load`].
    pub fn new(service: S, config: &ServerConfig) -> Self {
        Self::with_ui_spec(service, config, None)
    }

    /// Like [`AppState::new`], with the UI components to publish in `/api/spec`.
    pub fn with_ui_spec(service: S, config: &ServerConfig, ui: Option<serde_json::Value>) -> Self {
        let mut spec = ServiceSpec::of(&service);
        spec.ui = ui;
        let spec = Bytes::from(serde_json::to_vec(&spec).unwrap_or_default());
        let openapi = openapi_document(&service, config.api_keys.is_enabled());
        let metrics = Arc::new(Metrics::default());
        let size = PoolSize {
            workers: config.workers,
            queue_capacity: config.queue_capacity,
            timeout: config.timeout,
            batch: config.batching,
        };
        Self(Arc::new(Shared {
            engine: Arc::new(Engine::new(service, size, Arc::clone(&metrics))),
            validator: Validator::for_type::<S::Request>(),
            spec,
            openapi,
            keys: config.api_keys.clone(),
            body_limit: config.body_limit,
            read_timeout: config.read_timeout,
            cors: config.cors_origins.clone(),
            metrics,
        }))
    }

    /// Runs `load_model` and starts the workers; see [`Engine::load`].
    pub async fn load(&self) -> Result<(), String> {
        self.engine.load().await
    }

    /// The engine, for calling the model without HTTP (a co-hosted UI does this).
    pub fn engine(&self) -> &Arc<Engine<S>> {
        &self.engine
    }

    /// The validator of request bodies.
    pub fn validator(&self) -> &Validator {
        &self.validator
    }

    /// The OpenAPI document.
    pub fn openapi(&self) -> &serde_json::Value {
        &self.openapi
    }
}

/// Calls the model in process exactly as `POST /process` would: validation, queue, timeout, errors.
impl<S: Service> ServiceCaller for AppState<S> {
    fn call(&self, request: serde_json::Value) -> BoxFuture<'_, Result<serde_json::Value, CallError>> {
        Box::pin(async move {
            let outcome = match from_value::<S::Request>(&self.validator, request) {
                Ok(typed) => self.engine.call(typed).await,
                Err(err) => Err(err.into()),
            };
            let to_call_error = |err: crate::ApiError| CallError {
                status: Some(err.status().as_u16()),
                body: err.body(),
            };
            let bytes = outcome.map_err(to_call_error)?;
            serde_json::from_slice(&bytes)
                .map_err(|e| to_call_error(crate::ApiError::Internal(format!("the response is not JSON: {e}"))))
        })
    }
}
