//! `AppState`: what every handler shares: the engine, and the documents rendered from the model's
//! spec once it is loaded (`/api/spec`, `/openapi.json`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use easymlserve_core::{BoxFuture, CallError, JobCaller, JobEvent, ServiceCaller, ServiceSpec};

use crate::auth::ApiKeys;
use crate::backend::Backend;
use crate::config::ServerConfig;
use crate::cors::CorsOrigins;
use crate::engine::{Engine, ExecError, PoolSize};
use crate::error::ApiError;
use crate::jobs::Jobs;
use crate::metrics::Metrics;
use crate::openapi::openapi_document;

/// Builds the UI components published in `/api/spec` from the loaded spec (a generated form needs
/// the request schema, which exists only after loading).
pub type UiSpecFn = Arc<dyn Fn(&ServiceSpec) -> Option<serde_json::Value> + Send + Sync>;

/// The shared state of one server's router, behind one `Arc`: handlers and middleware clone it for
/// every request, and one reference count is cheaper than one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The documents rendered from the loaded spec.
pub(crate) struct Docs {
    pub spec: Arc<ServiceSpec>,
    pub spec_json: Bytes,
    pub openapi: Bytes,
    /// The model's tensors for the inference protocol.
    pub signature: crate::oip::Signature,
}

/// What [`AppState`] holds.
pub struct Shared {
    pub(crate) engine: Arc<Engine>,
    pub(crate) jobs: Arc<Jobs>,
    pub(crate) docs: OnceLock<Docs>,
    pub(crate) ui_spec: Option<UiSpecFn>,
    pub(crate) keys: ApiKeys,
    pub(crate) body_limit: usize,
    pub(crate) read_timeout: Duration,
    pub(crate) cors: CorsOrigins,
    pub(crate) metrics: Arc<Metrics>,
    /// Set on SIGTERM: readiness answers 503 from then on while the other routes keep serving.
    pub(crate) draining: AtomicBool,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// State for `backend` under `config`. The model is not loaded yet: call [`AppState::load`].
    pub fn new(backend: Box<dyn Backend>, config: &ServerConfig, ui_spec: Option<UiSpecFn>) -> Self {
        let metrics = Arc::new(Metrics::default());
        let size = PoolSize {
            workers: config.workers,
            queue_capacity: config.queue_capacity,
            timeout: config.timeout,
            batch: config.batching,
        };
        let engine = Arc::new(Engine::new(backend, size, Arc::clone(&metrics)));
        let jobs = Arc::new(Jobs::new(
            config.jobs.clone(),
            Arc::clone(&engine),
            Arc::clone(&metrics),
        ));
        Self(Arc::new(Shared {
            engine,
            jobs,
            docs: OnceLock::new(),
            ui_spec,
            keys: config.api_keys.clone(),
            body_limit: config.body_limit,
            read_timeout: config.read_timeout,
            cors: config.cors_origins.clone(),
            metrics,
            draining: AtomicBool::new(false),
        }))
    }

    /// Starts the drain: readiness answers 503 from now on; every other route still serves.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Whether the drain has started (readiness then answers 503).
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Loads the model, starts the workers and renders the documents of its spec; see [`Engine::load`].
    pub async fn load(&self) -> Result<(), ExecError> {
        self.jobs.spawn_reaper();
        self.engine
            .load_then(|spec| {
                let _ = self.docs.get_or_init(|| self.render(spec));
            })
            .await?;
        Ok(())
    }

    fn render(&self, spec: &ServiceSpec) -> Docs {
        let mut spec = spec.clone();
        if let Some(ui) = &self.ui_spec {
            spec.ui = ui(&spec);
        }
        let openapi = openapi_document(&spec, self.keys.is_enabled());
        Docs {
            signature: crate::oip::Signature::of(&spec),
            spec_json: Bytes::from(serde_json::to_vec(&spec).unwrap_or_default()),
            openapi: Bytes::from(serde_json::to_vec(&openapi).unwrap_or_default()),
            spec: Arc::new(spec),
        }
    }

    /// The engine, for calling the model without HTTP (a co-hosted UI does this).
    pub fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The jobs of this server.
    pub fn jobs(&self) -> &Arc<Jobs> {
        &self.jobs
    }

    /// The loaded spec, UI components included; `None` before the model is loaded.
    pub fn spec(&self) -> Option<&Arc<ServiceSpec>> {
        self.docs.get().map(|docs| &docs.spec)
    }

    /// The OpenAPI document: of the loaded model, or, before loading, of the spec the backend knows
    /// without loading (a typed service's types); `None` when neither exists yet.
    pub fn openapi(&self) -> Option<serde_json::Value> {
        if let Some(docs) = self.docs.get() {
            return serde_json::from_slice(&docs.openapi).ok();
        }
        let spec = self.engine.describe()?;
        serde_json::from_slice(&self.render(&spec).openapi).ok()
    }
}

/// Calls the model in process exactly as `POST /process` would: validation, queue, timeout, errors.
/// The request stays a `serde_json::Value` (validated as is, then read into the service's request
/// type by the backend): never written to bytes and parsed back, as an HTTP call would.
impl ServiceCaller for AppState {
    fn call(&self, request: serde_json::Value) -> BoxFuture<'_, Result<serde_json::Value, CallError>> {
        Box::pin(async move {
            let bytes = self.call_bytes(request).await?;
            serde_json::from_slice(&bytes)
                .map_err(|e| call_error(ApiError::Internal(format!("the response is not JSON: {e}"))))
        })
    }

    /// The JSON bytes the backend wrote, unparsed: the GUI reads them once, into its response type.
    fn call_bytes(&self, request: serde_json::Value) -> BoxFuture<'_, Result<Vec<u8>, CallError>> {
        Box::pin(async move {
            let valid = self.engine.validate(request).map_err(|e| call_error(e.into()))?;
            let bytes = self.engine.call(valid, None).await.map_err(|e| call_error(e.into()))?;
            Ok(Vec::from(bytes))
        })
    }

    fn jobs(&self) -> Option<&dyn JobCaller> {
        Some(self)
    }
}

fn call_error(err: ApiError) -> CallError {
    CallError {
        status: Some(err.status().as_u16()),
        body: err.body(),
    }
}

/// Jobs in process, for a co-hosted GUI: the same validation, store and events as the job routes. Its
/// jobs have no owner key (the GUI's own routes check the key).
impl JobCaller for AppState {
    fn submit(&self, request: serde_json::Value) -> BoxFuture<'_, Result<String, CallError>> {
        Box::pin(async move {
            let body = serde_json::to_vec(&request).unwrap_or_default();
            let valid = self.engine.validate(request).map_err(|e| call_error(e.into()))?;
            let submitted = self.jobs.submit(valid, &body, None, None).await.map_err(call_error)?;
            Ok(submitted.record.id)
        })
    }

    fn events_after<'a>(&'a self, id: &'a str, after: u64) -> BoxFuture<'a, Result<Vec<JobEvent>, CallError>> {
        Box::pin(async move {
            let wait = std::time::Duration::from_secs(10);
            let (events, _) = self
                .jobs
                .events_after(id, None, after, wait)
                .await
                .map_err(call_error)?;
            Ok(events)
        })
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            self.jobs.cancel(id, None).await.map_err(call_error)?;
            Ok(())
        })
    }

    fn request<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<serde_json::Value>, CallError>> {
        Box::pin(async move { self.jobs.request_body(id, None).await.map_err(call_error) })
    }
}
