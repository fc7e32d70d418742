//! `ServiceCaller`: one way to call a service with JSON, whether it runs in this process (a co-hosted
//! GUI) or elsewhere over REST (a standalone GUI). GUIs hold a `dyn ServiceCaller` and never care which.

use std::future::Future;
use std::pin::Pin;

use crate::ErrorBody;

/// A boxed future, so the trait stays object-safe without an async runtime dependency.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a call did not produce a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .body.error)]
pub struct CallError {
    /// The HTTP status the service answered, or `None` when it could not be reached.
    pub status: Option<u16>,
    /// The error in the REST error shape.
    pub body: ErrorBody,
}

impl CallError {
    /// The service could not be reached.
    pub fn unreachable(message: impl Into<String>) -> Self {
        let body = ErrorBody {
            error: message.into(),
            error_type: "service_unreachable".to_owned(),
            field: None,
        };
        Self { status: None, body }
    }
}

/// Calls a service's `process` with a JSON request and returns its JSON response.
pub trait ServiceCaller: Send + Sync + 'static {
    /// Sends one request.
    fn call(&self, request: serde_json::Value) -> BoxFuture<'_, Result<serde_json::Value, CallError>>;

    /// Sends one request and answers the response's JSON text, unparsed, so a GUI reads it once, straight
    /// into its response type. The default serialises [`ServiceCaller::call`]'s answer; the in-process
    /// caller of a co-hosted GUI answers the bytes the model wrote without parsing them first.
    fn call_bytes(&self, request: serde_json::Value) -> BoxFuture<'_, Result<Vec<u8>, CallError>> {
        Box::pin(async move {
            let response = self.call(request).await?;
            serde_json::to_vec(&response).map_err(|e| CallError {
                status: Some(500),
                body: ErrorBody {
                    error: format!("the response could not be encoded as JSON: {e}"),
                    error_type: "internal_error".to_owned(),
                    field: None,
                },
            })
        })
    }

    /// Jobs with progress and cancel, when the service offers them (a GUI then shows a progress bar and
    /// a Cancel button); `None` for a caller that can only call.
    fn jobs(&self) -> Option<&dyn crate::JobCaller> {
        None
    }
}
