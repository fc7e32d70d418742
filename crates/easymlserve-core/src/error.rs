//! Errors of the contract layer: what a model may report, and what the shared error body looks like.

use serde::{Deserialize, Serialize};

/// What a service reports when it cannot answer a request.
///
/// `InvalidInput` is the caller's fault and reaches them as 422 with its message; `Failed` is the
/// model's fault and reaches them as 500 with a generic message, the detail going to the server log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// The request was well-formed JSON of the right shape but the model cannot use it.
    #[error("{}", render_invalid(field.as_deref(), message))]
    InvalidInput {
        /// The field the problem concerns, as a path such as `time[3]`, when there is one.
        field: Option<String>,
        /// A message for the caller, in plain words.
        message: String,
    },
    /// The model failed. The message is logged, not sent to the caller.
    #[error("the model failed: {0}")]
    Failed(String),
    /// The model stopped because the request was cancelled ([`Context::check_cancelled`](crate::Context::check_cancelled)).
    #[error("the request was cancelled before the model finished")]
    Cancelled,
}

fn render_invalid(field: Option<&str>, message: &str) -> String {
    match field {
        Some(field) => format!("`{field}`: {message}"),
        None => message.to_owned(),
    }
}

impl ServiceError {
    /// The caller sent something the model cannot use.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: None,
            message: message.into(),
        }
    }

    /// The caller sent a value the model cannot use in `field` (a path such as `time[3]`).
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidInput {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// The model failed; `detail` goes to the server log only.
    pub fn failed(detail: impl std::fmt::Display) -> Self {
        Self::Failed(detail.to_string())
    }
}

/// The JSON body of every error answer: `{"error", "error_type"}` and, where known, the `field`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// A human message that names the field concerned.
    pub error: String,
    /// A stable snake_case identifier of the kind of error, for programs.
    pub error_type: String,
    /// The path of the field the error concerns, such as `models[1]`, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
