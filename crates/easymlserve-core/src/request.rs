//! Turns request bytes into a typed request: malformed JSON, schema violations and type errors are told
//! apart so the server can answer 400 or 422 with the field named.

use serde::de::DeserializeOwned;

use crate::validate::{Invalid, Validator};

/// Why a request body could not become a typed request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The body is not JSON (400).
    #[error("the request body is not valid JSON: {0}")]
    Malformed(String),
    /// The body is JSON but a field is missing, of the wrong type or out of range (422).
    #[error("{}", .0.message)]
    Invalid(Invalid),
}

impl RequestError {
    /// The path of the field concerned, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid(invalid) if !invalid.path.is_empty() => Some(&invalid.path),
            _ => None,
        }
    }
}

/// Parses `body` as JSON, validates it against `validator` and deserializes it into `T`.
pub fn parse_request<T: DeserializeOwned>(validator: &Validator, body: &[u8]) -> Result<T, RequestError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| RequestError::Malformed(e.to_string()))?;
    from_value(validator, value)
}

/// Validates an already parsed JSON value and deserializes it into `T`.
pub fn from_value<T: DeserializeOwned>(validator: &Validator, value: serde_json::Value) -> Result<T, RequestError> {
    validator.validate(&value).map_err(RequestError::Invalid)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let inner = e.into_inner().to_string();
        let message = if path.is_empty() {
            format!("the request body is invalid: {inner}")
        } else {
            format!("`{path}`: {inner}")
        };
        RequestError::Invalid(Invalid { path, message })
    })
}
