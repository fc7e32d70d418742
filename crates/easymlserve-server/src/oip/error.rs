//! `OipError`: the one error type of the inference-protocol routes, answered as the protocol's
//! `{"error": "..."}` (with our `error_type` beside it) and 400, 404, 503 or the engine's own status;
//! a refusal the REST API answers with 422 is a 400 here, as the protocol has no 422.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::ApiError;

/// Why an inference-protocol request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OipError {
    /// 400: the request does not fit the protocol or the model.
    #[error("{0}")]
    BadRequest(String),
    /// 404: no such model or version here.
    #[error("{0}")]
    NotFound(String),
    /// An error of the REST layer (not ready, queue full, timeout, model failure, validation).
    #[error("{0}")]
    Api(ApiError),
    /// 500: the model's answer does not fit its own tensors.
    #[error("internal server error: {0}")]
    Internal(String),
}

impl OipError {
    /// A 400 with `message`.
    pub(crate) fn bad(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Api(err) if err.status() == StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
            Self::Api(err) => err.status(),
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_type(&self) -> &str {
        match self {
            Self::BadRequest(_) => "invalid_inference_request",
            Self::NotFound(_) => "model_not_found",
            Self::Api(err) => err.error_type(),
            Self::Internal(_) => "internal_error",
        }
    }
}

impl From<ApiError> for OipError {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

impl IntoResponse for OipError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.to_string(), "error_type": self.error_type()});
        if let Self::Api(err) = &self
            && let Some(field) = err.field()
        {
            body["field"] = field.into();
        }
        if self.status().is_server_error() && !matches!(self, Self::Api(_)) {
            tracing::error!(error = %self, "inference request failed");
        }
        (self.status(), axum::Json(body)).into_response()
    }
}
