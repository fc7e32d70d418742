//! `Backend`: the one non-generic interface the execution engine drives. Every kind of model is a
//! backend: a typed Rust service (through [`TypedBackend`](crate::TypedBackend)), and in later rounds
//! Python worker processes and ONNX files. A backend's spec is known only once it is loaded, so
//! validation, the OpenAPI document and generated GUIs are built from what it reports at run time.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use easymlserve_core::{Context, ServiceError, ServiceSpec};

/// The future of one asynchronous run ([`Backend::run_async`]): owns what it needs, runs on the
/// server's runtime.
pub type RunFuture = Pin<Box<dyn Future<Output = Result<Bytes, ModelError>> + Send + 'static>>;

/// Why a backend failed to load. The server stays up, not ready, and shows the message in
/// `/health/ready`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LoadError {
    /// What went wrong, in plain words (a Python traceback's last line, an unsupported operator).
    pub message: String,
}

impl LoadError {
    /// A load error with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// Why a backend did not answer one request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The request passed the schema but could not be read as the model's request type (422).
    #[error("{message}")]
    InvalidRequest {
        /// The field path, empty for the whole body.
        field: String,
        /// The message naming the field.
        message: String,
    },
    /// The model refused the input (422).
    #[error("{message}")]
    InvalidInput {
        /// The field the model named, if any.
        field: Option<String>,
        /// The model's message, for the caller.
        message: String,
    },
    /// The model refused the request with a client-error status of its own choosing (4xx), such as
    /// a Python model raising an exception with `status_code = 404` and a `detail`.
    #[error("{message}")]
    Refused {
        /// The HTTP status the model chose, 400 to 499.
        status: u16,
        /// A snake_case identifier of the kind of refusal.
        error_type: String,
        /// The model's message, for the caller.
        message: String,
        /// The field the model named, if any.
        field: Option<String>,
    },
    /// The model failed; the detail goes to the log only.
    #[error("the model failed: {0}")]
    Failed(String),
    /// The model panicked (or raised where it must not); the detail goes to the log only.
    #[error("the model panicked: {0}")]
    Panicked(String),
    /// The model stopped because the request was cancelled.
    #[error("the request was cancelled")]
    Cancelled,
    /// The process running the model died while it held the request.
    #[error("the model's worker process crashed: {0}")]
    Crashed(String),
}

impl From<ServiceError> for ModelError {
    fn from(err: ServiceError) -> Self {
        let message = err.to_string();
        match err {
            ServiceError::InvalidInput { field, .. } => Self::InvalidInput { field, message },
            ServiceError::Failed(detail) => Self::Failed(detail),
            ServiceError::Cancelled => Self::Cancelled,
        }
    }
}

/// What the engine does when an asynchronous backend takes its request ([`Item::started`]): the
/// request leaves the queue; false when its caller left while it waited.
pub(crate) type StartHook = Box<dyn FnOnce() -> bool + Send + 'static>;

/// One request for a backend: a JSON value that passed the spec's request schema, and its context.
#[non_exhaustive]
pub struct Item {
    /// The validated request body.
    pub request: serde_json::Value,
    /// Request id, deadline, cancellation flag and progress.
    pub ctx: Context,
    start: Option<StartHook>,
}

impl std::fmt::Debug for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Item")
            .field("request", &self.request)
            .field("ctx", &self.ctx)
            .field("waiting", &self.start.is_some())
            .finish()
    }
}

impl Item {
    /// An item of `request` with `ctx`.
    pub fn new(request: serde_json::Value, ctx: Context) -> Self {
        Self {
            request,
            ctx,
            start: None,
        }
    }

    /// An item whose backend tells the engine when it takes it.
    pub(crate) fn with_start(mut self, start: StartHook) -> Self {
        self.start = Some(start);
        self
    }

    /// Tells the engine that the backend has what the request waited for (an asynchronous backend
    /// calls it once it has leased a worker process): only now does the request leave the queue, take
    /// its place in the queue's order, count as running and busy a worker. False when the caller
    /// left while the request waited: the backend then does not run it (and gives back what it
    /// leased). Later calls, and calls on an item that came from a worker thread, return true.
    pub fn started(&mut self) -> bool {
        self.start.take().is_none_or(|start| start())
    }
}

/// A model the engine can serve, whatever runs it.
///
/// The engine calls [`Backend::load`] once on a blocking thread, then [`Backend::run`] (or
/// [`Backend::run_batch`]) on its worker threads, many at once: a backend is shared, `&self`. A run
/// produces a stream of events for its request: any number of progress reports through the context,
/// then exactly one outcome, the return value. Panics are caught by the engine and fail only that
/// request.
pub trait Backend: Send + Sync + 'static {
    /// The spec, when it is known before loading (a typed Rust service knows it from its types); the
    /// `openapi` command uses it to print the document without loading the model.
    fn describe(&self) -> Option<ServiceSpec> {
        None
    }

    /// Loads the model and returns its spec. Blocking; runs once, before the server is ready.
    fn load(&mut self) -> Result<ServiceSpec, LoadError>;

    /// Answers one validated request with the JSON bytes of the response.
    fn run(&self, item: Item) -> Result<Bytes, ModelError>;

    /// Answers several requests at once, one outcome per item in their order (used when dynamic
    /// batching is on). The default runs them one by one, each panic failing only its own item.
    fn run_batch(&self, items: Vec<Item>) -> Vec<Result<Bytes, ModelError>> {
        items
            .into_iter()
            .map(|item| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run(item)))
                    .unwrap_or_else(|panic| Err(ModelError::Panicked(easymlserve_core::panic_message(&*panic))))
            })
            .collect()
    }

    /// Whether a run takes microseconds, so the engine may call it on the thread that read the
    /// request instead of handing it to a worker (no timeout, no batching then).
    fn runs_inline(&self) -> bool {
        false
    }

    /// Whether a run mostly waits on something outside the process (a worker process, a socket), so
    /// the engine should drive [`Backend::run_async`] on its runtime instead of handing requests to
    /// worker threads. The queue bound still holds (workers plus queue capacity runs at once; 503
    /// beyond). With dynamic batching on, the engine uses its worker threads and `run_batch` instead.
    fn runs_async(&self) -> bool {
        false
    }

    /// Answers one validated request on the runtime (used when [`Backend::runs_async`] says so). The
    /// engine polls the future again as soon as the caller times out or goes away, after setting the
    /// context's cancellation flag, so a future that checks the flag whenever it is polled learns of
    /// the cancellation at once. The request counts as queued (its position, `queue_depth`) until the
    /// future calls [`Item::started`], which it does once it has what it waited for (a worker process);
    /// a future that never calls it counts as queued until it ends. The default fails: a backend that
    /// says it runs async implements it.
    fn run_async(&self, item: Item) -> RunFuture {
        drop(item);
        Box::pin(std::future::ready(Err(ModelError::Failed(
            "this backend has no asynchronous run".to_owned(),
        ))))
    }

    /// Called once when the server stops, after the last request: stop worker processes, flush.
    fn shutdown(&self) {}
}
