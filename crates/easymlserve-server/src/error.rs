//! `ApiError`: the one error type of the HTTP layer. Every failure a client can see is a variant here,
//! mapped to its status code and stable `error_type` in one exhaustive `match`.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use easymlserve_core::{ErrorBody, ServiceError};

use crate::engine::ExecError;
use crate::validate::RequestError;

/// Everything that can go wrong in a request, as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not JSON.
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    /// 400: the body could not be read.
    #[error("the request body could not be read: {0}")]
    BodyRead(String),
    /// 401: no API key, or a wrong one.
    #[error("a valid API key is required: send `Authorization: Bearer <key>` or `x-api-key: <key>`")]
    Unauthorized,
    /// 404: no such route.
    #[error("no route for {method} {path}; see /docs for the API")]
    NotFound {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
    },
    /// 405: the route exists, the method does not.
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed {
        /// The request method.
        method: String,
        /// The request path.
        path: String,
    },
    /// 413: the body is over the configured limit.
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// 415: the body is not declared as JSON.
    #[error("the request body must be sent with `Content-Type: application/json`, got {0}")]
    UnsupportedMediaType(String),
    /// 422: a field is missing, of the wrong type or out of range (found by validation).
    #[error("{message}")]
    InvalidRequest {
        /// The path of the field, such as `models[1]`; empty for the whole body.
        field: String,
        /// The message naming the field.
        message: String,
    },
    /// 422: the model refused the input.
    #[error("{message}")]
    InvalidInput {
        /// The field the model named, if any.
        field: Option<String>,
        /// The model's message.
        message: String,
    },
    /// 4xx: the model refused the request with a status of its own choosing.
    #[error("{message}")]
    Refused {
        /// The status, 400 to 499.
        status: u16,
        /// The model's snake_case identifier of the refusal.
        error_type: String,
        /// The model's message.
        message: String,
        /// The field the model named, if any.
        field: Option<String>,
    },
    /// 503: the queue is full.
    #[error("the server is busy: the request queue is full ({capacity} waiting); retry shortly")]
    QueueFull {
        /// The queue capacity.
        capacity: usize,
    },
    /// 503: the model is not loaded (yet), or failed to load.
    #[error("the service is not ready: {0}")]
    NotReady(String),
    /// 503: the server is shutting down.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// 408: the client did not send its body within the read timeout.
    #[error("the request body was not received within {} s; send it faster or in one piece", .0.as_secs_f64())]
    RequestTimeout(Duration),
    /// 504: the model took longer than the timeout.
    #[error("the model did not answer within {} s", .0.as_secs_f64())]
    Timeout(Duration),
    /// 500: the model returned an error (detail in the log only).
    #[error("the model failed to process the request; the server log has the details")]
    ModelFailed,
    /// 500: the model panicked (detail in the log only).
    #[error("the model crashed while processing the request; the server log has the details")]
    ModelPanicked,
    /// 500: the worker process running the model died while it held this request (detail in the log).
    #[error("the model's worker process crashed while processing the request; it is being restarted")]
    WorkerCrashed,
    /// 503: the request was cancelled before the model finished.
    #[error("the request was cancelled before the model finished")]
    Cancelled,
    /// 500: something in the server itself failed.
    #[error("internal server error: {0}")]
    Internal(String),
    /// 404: no job with that id (never was, expired, or deleted).
    #[error("no job `{0}`: it never existed, expired or was deleted")]
    JobNotFound(String),
    /// 403: the job was submitted with another API key.
    #[error("job `{0}` belongs to another API key")]
    JobForbidden(String),
    /// 409: `PUT /jobs/{id}` with a body other than the one the job was submitted with.
    #[error("job `{0}` exists with another request body; choose a new id")]
    JobConflict(String),
    /// 422: a job id the client chose is not usable.
    #[error("{0}")]
    InvalidJobId(String),
    /// 503: the job store keeps as many jobs or bytes as it may.
    #[error("no new job now: {0}")]
    JobsFull(String),
    /// 503: the job store cannot be reached.
    #[error("{0}; jobs are unavailable until it is back, plain `POST /process` calls still work")]
    JobStoreUnavailable(String),
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedJson(_) | Self::BodyRead(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::InvalidRequest { .. } | Self::InvalidInput { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Refused { status, .. } => StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST),
            Self::QueueFull { .. }
            | Self::NotReady(_)
            | Self::ShuttingDown
            | Self::Cancelled
            | Self::JobsFull(_)
            | Self::JobStoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::JobNotFound(_) => StatusCode::NOT_FOUND,
            Self::JobForbidden(_) => StatusCode::FORBIDDEN,
            Self::JobConflict(_) => StatusCode::CONFLICT,
            Self::InvalidJobId(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::ModelFailed | Self::ModelPanicked | Self::WorkerCrashed | Self::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// The stable snake_case identifier sent as `error_type`.
    pub fn error_type(&self) -> &str {
        match self {
            Self::Refused { error_type, .. } => error_type,
            Self::MalformedJson(_) => "malformed_json",
            Self::BodyRead(_) => "body_read_failed",
            Self::Unauthorized => "unauthorized",
            Self::NotFound { .. } => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::InvalidRequest { .. } => "validation_error",
            Self::InvalidInput { .. } => "invalid_input",
            Self::QueueFull { .. } => "queue_full",
            Self::NotReady(_) => "not_ready",
            Self::ShuttingDown => "shutting_down",
            Self::Timeout(_) => "timeout",
            Self::RequestTimeout(_) => "request_timeout",
            Self::ModelFailed => "model_error",
            Self::ModelPanicked => "model_panic",
            Self::WorkerCrashed => "worker_crashed",
            Self::Cancelled => "canceled",
            Self::Internal(_) => "internal_error",
            Self::JobNotFound(_) => "job_not_found",
            Self::JobForbidden(_) => "forbidden",
            Self::JobConflict(_) => "job_conflict",
            Self::InvalidJobId(_) => "invalid_job_id",
            Self::JobsFull(_) => "jobs_full",
            Self::JobStoreUnavailable(_) => "job_store_unavailable",
        }
    }

    /// The field this error concerns, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::InvalidRequest { field, .. } if !field.is_empty() => Some(field),
            Self::InvalidJobId(_) => Some("id"),
            Self::InvalidInput { field: Some(field), .. } | Self::Refused { field: Some(field), .. } => Some(field),
            _ => None,
        }
    }

    /// The JSON body sent for this error.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.to_string(),
            error_type: self.error_type().to_owned(),
            field: self.field().map(str::to_owned),
        }
    }

    /// Seconds a client should wait before retrying, for the 503 answers.
    fn retry_after(&self) -> Option<&'static str> {
        match self {
            Self::QueueFull { .. } | Self::Cancelled => Some("1"),
            Self::NotReady(_) | Self::ShuttingDown | Self::JobsFull(_) | Self::JobStoreUnavailable(_) => Some("5"),
            _ => None,
        }
    }
}

impl From<RequestError> for ApiError {
    fn from(err: RequestError) -> Self {
        match err {
            RequestError::Malformed(message) => Self::MalformedJson(message),
            RequestError::Invalid(invalid) => Self::InvalidRequest {
                field: invalid.path,
                message: invalid.message,
            },
        }
    }
}

/// The engine's errors as the client sees them: the one mapping of the execution core to HTTP.
impl From<ExecError> for ApiError {
    fn from(err: ExecError) -> Self {
        match err {
            ExecError::InvalidRequest { field, message } => Self::InvalidRequest { field, message },
            ExecError::InvalidInput { field, message } => Self::InvalidInput { field, message },
            ExecError::Refused {
                status,
                error_type,
                message,
                field,
            } => Self::Refused {
                status,
                error_type,
                message,
                field,
            },
            ExecError::Loading => Self::NotReady("the model is still loading".to_owned()),
            ExecError::LoadFailed(_) => Self::NotReady("the model failed to load; see /health/ready".to_owned()),
            ExecError::ShuttingDown => Self::ShuttingDown,
            ExecError::QueueFull { capacity } => Self::QueueFull { capacity },
            ExecError::Timeout(limit) => Self::Timeout(limit),
            ExecError::Cancelled => Self::Cancelled,
            ExecError::ModelFailed(_) => Self::ModelFailed,
            ExecError::ModelPanicked(_) => Self::ModelPanicked,
            ExecError::WorkerCrashed(_) => Self::WorkerCrashed,
            ExecError::Internal(detail) => Self::Internal(detail),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        let message = err.to_string();
        match err {
            ServiceError::InvalidInput { field, .. } => Self::InvalidInput { field, message },
            ServiceError::Failed(_) => Self::ModelFailed,
            ServiceError::Cancelled => Self::Cancelled,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static(seconds));
        }
        if self == Self::Unauthorized {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"easymlserve\""),
            );
        }
        response
    }
}
