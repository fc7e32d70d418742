//! `ExecError`: the execution core's own error type. It knows nothing of HTTP: the REST routes, the
//! web GUI and the inference-protocol routes each map it to their wire shape in one place.

use std::time::Duration;

use crate::backend::ModelError;

/// Why the engine did not produce a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The request does not fit the request schema (or the model's request type).
    #[error("{message}")]
    InvalidRequest {
        /// The field path, such as `points[1].lat`; empty for the whole body.
        field: String,
        /// The message naming the field and the limit.
        message: String,
    },
    /// The model refused the input.
    #[error("{message}")]
    InvalidInput {
        /// The field the model named, if any.
        field: Option<String>,
        /// The model's message.
        message: String,
    },
    /// The model refused the request with a client-error status of its own choosing (400 to 499).
    #[error("{message}")]
    Refused {
        /// The status, 400 to 499.
        status: u16,
        /// A snake_case identifier of the kind of refusal.
        error_type: String,
        /// The model's message.
        message: String,
        /// The field the model named, if any.
        field: Option<String>,
    },
    /// The model is still loading.
    #[error("the model is still loading")]
    Loading,
    /// The model failed to load; the reason.
    #[error("the model failed to load: {0}")]
    LoadFailed(String),
    /// The server is shutting down and takes no new work.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// The queue is full.
    #[error("the request queue is full ({capacity} waiting)")]
    QueueFull {
        /// The queue capacity.
        capacity: usize,
    },
    /// The model did not answer within the timeout (its cancellation flag is set).
    #[error("the model did not answer within {} s", .0.as_secs_f64())]
    Timeout(Duration),
    /// The request was cancelled before it finished.
    #[error("the request was cancelled before it finished")]
    Cancelled,
    /// The model returned an error; the detail is for the log.
    #[error("the model failed: {0}")]
    ModelFailed(String),
    /// The model panicked; the detail is for the log.
    #[error("the model panicked: {0}")]
    ModelPanicked(String),
    /// The worker process running the model died; the detail is for the log.
    #[error("the model's worker crashed: {0}")]
    WorkerCrashed(String),
    /// Something in the engine itself failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ExecError {
    /// The stable snake_case identifier of the variant, the same on every transport.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::InvalidRequest { .. } => "validation_error",
            Self::InvalidInput { .. } => "invalid_input",
            Self::Refused { .. } => "refused",
            Self::Loading | Self::LoadFailed(_) => "not_ready",
            Self::ShuttingDown => "shutting_down",
            Self::QueueFull { .. } => "queue_full",
            Self::Timeout(_) => "timeout",
            Self::Cancelled => "canceled",
            Self::ModelFailed(_) => "model_error",
            Self::ModelPanicked(_) => "model_panic",
            Self::WorkerCrashed(_) => "worker_crashed",
            Self::Internal(_) => "internal_error",
        }
    }

    /// The kind recorded in `easymlserve_model_failures_total`, for failures of the model itself.
    pub(crate) fn failure_kind(&self) -> Option<&'static str> {
        match self {
            Self::ModelFailed(_) => Some("error"),
            Self::ModelPanicked(_) => Some("panic"),
            Self::WorkerCrashed(_) => Some("crash"),
            Self::Timeout(_) => Some("timeout"),
            _ => None,
        }
    }
}

impl From<ModelError> for ExecError {
    fn from(err: ModelError) -> Self {
        match err {
            ModelError::InvalidRequest { field, message } => Self::InvalidRequest { field, message },
            ModelError::InvalidInput { field, message } => Self::InvalidInput { field, message },
            ModelError::Refused {
                status,
                error_type,
                message,
                field,
            } if (400..500).contains(&status) => Self::Refused {
                status,
                error_type,
                message,
                field,
            },
            ModelError::Refused { status, message, .. } => {
                Self::ModelFailed(format!("the model answered {status} outside 400-499: {message}"))
            }
            ModelError::Failed(detail) => Self::ModelFailed(detail),
            ModelError::Panicked(detail) => Self::ModelPanicked(detail),
            ModelError::Cancelled => Self::Cancelled,
            ModelError::Crashed(detail) => Self::WorkerCrashed(detail),
        }
    }
}
