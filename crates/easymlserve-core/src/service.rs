//! The `Service` trait: what a model author implements to be served.
//!
//! A service loads its model once and then answers JSON requests. The request and response are typed
//! (serde + JSON Schema) so the server can validate input, document it in OpenAPI and generate forms.

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Capabilities, Context, ServiceError};

/// Who the service is: shown in `/api/spec`, the OpenAPI document and the GUIs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ServiceInfo {
    /// Short name, for example `"Load forecasting"`.
    pub name: String,
    /// Version of the model or service, for example `"1.0.0"`.
    pub version: String,
    /// One or two sentences on what the service does, for non-expert users.
    pub description: String,
}

impl ServiceInfo {
    /// Info with a name and the defaults for the rest.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Sets the version.
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }
}

impl Default for ServiceInfo {
    fn default() -> Self {
        Self {
            name: "easymlserve service".to_owned(),
            version: "0.1.0".to_owned(),
            description: String::new(),
        }
    }
}

/// A machine-learning service: load a model once, then turn requests into responses.
///
/// `process` takes `&self` and may run on several worker threads at once; keep mutable state behind a
/// lock, or serve with one worker. It runs on a blocking worker thread, never on the async runtime, so
/// it may take seconds of CPU (unless the service says it is cheap: [`Service::runs_inline`]). A panic
/// inside it fails only that request.
///
/// For raw JSON in and out, use `serde_json::Value` as both `Request` and `Response`.
pub trait Service: Send + Sync + 'static {
    /// The request body. Validated against its JSON Schema before `process` sees it.
    type Request: DeserializeOwned + JsonSchema + Send + 'static;
    /// The response body.
    type Response: Serialize + JsonSchema + Send + 'static;

    /// Name, version and description of the service.
    fn info(&self) -> ServiceInfo {
        ServiceInfo::default()
    }

    /// Loads weights or data; runs once, off the async runtime, before the service reports ready.
    ///
    /// While it runs, `/health/live` answers and `/health/ready` and `/process` answer 503. If it fails,
    /// the server keeps running, not ready, and reports the reason in `/health/ready`.
    fn load_model(&mut self) -> Result<(), ServiceError> {
        Ok(())
    }

    /// Answers one request.
    fn process(&self, request: Self::Request) -> Result<Self::Response, ServiceError>;

    /// Answers one request with its [`Context`]: request id, deadline, cancellation flag, progress.
    ///
    /// The server always calls this one; by default it forwards to [`Service::process`], so simple
    /// services never see the context. A service that reports progress or stops when cancelled
    /// overrides it (and says so in [`Service::capabilities`]), and implements `process` by calling it
    /// with [`Context::detached`].
    fn process_with(&self, request: Self::Request, ctx: &Context) -> Result<Self::Response, ServiceError> {
        let _ = ctx;
        self.process(request)
    }

    /// Answers several requests at once, one result per request and in their order.
    ///
    /// The server calls this when dynamic batching is on (`max_batch_size` above 1): it groups requests
    /// that arrive close together and splits the answers back, so each caller gets its own result or
    /// error. Override it when the model is faster on a batch (one matrix product instead of many).
    /// The default answers the requests one by one with [`Service::process`] and turns a panic into that
    /// request's own error, so only the request that panicked fails. A panic escaping an override fails
    /// every request of its batch; returning a different number of results fails them too.
    fn process_batch(&self, requests: Vec<Self::Request>) -> Vec<Result<Self::Response, ServiceError>> {
        requests
            .into_iter()
            .map(|request| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.process(request)))
                    .unwrap_or_else(|panic| Err(ServiceError::failed(format!("panicked: {}", panic_message(&*panic)))))
            })
            .collect()
    }

    /// Whether `process` is cheap enough to run on the thread that read the request.
    ///
    /// By default (`false`) the server hands every request to a worker thread and waits for the answer:
    /// the async runtime stays free for other connections however long the model takes, and the request
    /// timeout applies. A service whose `process` takes microseconds (a lookup, a small linear model, an
    /// echo) may return `true`: the server then calls `process` directly where the request was read,
    /// which saves two thread hand-offs per request (about 10 µs and most of the tail latency on a
    /// small machine). A panic still fails only that request, but the timeout cannot cut such a call
    /// short and dynamic batching is not used; keep it for models that never take more than a
    /// millisecond or so.
    fn runs_inline(&self) -> bool {
        false
    }

    /// What the service can do beyond answering one request: shown in `/api/spec`, so clients know
    /// whether progress will come and whether cancelling stops the model.
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    /// An example request body, shown in the OpenAPI document and the docs page.
    fn example_request(&self) -> Option<serde_json::Value> {
        None
    }
}

/// The message of a caught panic, for logs and errors.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}
