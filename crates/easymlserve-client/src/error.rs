//! The client's one error type, and how an HTTP answer becomes a value or that error: every call
//! (plain, streamed, job) reports a server error with the server's own `error` and `error_type`.

use easymlserve_core::{CallError, ErrorBody, JobFailure};
use serde::de::DeserializeOwned;

/// What went wrong talking to a service.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The base URL is not a valid HTTP URL.
    #[error("invalid service URL `{url}`: {message}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// Why it is invalid.
        message: String,
    },
    /// The API key contains characters that cannot be sent in a header.
    #[error("the API key cannot be sent in an HTTP header")]
    InvalidApiKey,
    /// A job id the server would refuse: 1 to 128 characters of `A-Z a-z 0-9 - _ .`.
    #[error("invalid job id `{0}`: use 1 to 128 characters of A-Z, a-z, 0-9, `-`, `_` and `.`")]
    InvalidJobId(String),
    /// The service answered with an error status, or a job or stream ended with an error event.
    #[error("the service answered {status}: {} ({})", .body.error, .body.error_type)]
    Api {
        /// The HTTP status code (for a job or stream, the one `POST /process` would have answered).
        status: u16,
        /// The error body, as sent by the server (or built from a non-JSON answer).
        body: ErrorBody,
    },
    /// The service could not be reached, or did not answer within the timeout.
    #[error("could not reach the service at {url}: {source}")]
    Transport {
        /// The URL called.
        url: String,
        /// The transport error.
        source: reqwest::Error,
    },
    /// An event stream broke off and could not be resumed (or, for a stream that cannot be resumed,
    /// ended before its last event).
    #[error("the event stream from {url} broke off: {message}")]
    StreamLost {
        /// The URL of the stream.
        url: String,
        /// What happened last.
        message: String,
    },
    /// The answer was not the JSON expected.
    #[error("the service's answer could not be read: {0}")]
    Decode(String),
}

impl ClientError {
    /// The server's `error_type`, when the service answered with an error.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            Self::Api { body, .. } => Some(&body.error_type),
            _ => None,
        }
    }

    /// The HTTP status, when the service answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether this is a job or stream that was canceled (`error_type` `canceled`).
    pub fn is_canceled(&self) -> bool {
        self.error_type() == Some("canceled")
    }

    pub(crate) fn transport(url: &str, source: reqwest::Error) -> Self {
        Self::Transport {
            url: url.to_owned(),
            source,
        }
    }

    /// The error a GUI shows for this one.
    pub(crate) fn into_call_error(self) -> CallError {
        match self {
            Self::Api { status, body } => CallError {
                status: Some(status),
                body,
            },
            Self::Transport { url, source } if source.is_timeout() => {
                CallError::unreachable(format!("the service at {url} did not answer in time"))
            }
            Self::Transport { url, .. } => {
                CallError::unreachable(format!("the service at {url} cannot be reached; is it running?"))
            }
            other => CallError::unreachable(other.to_string()),
        }
    }
}

impl From<JobFailure> for ClientError {
    fn from(failure: JobFailure) -> Self {
        Self::Api {
            status: failure.status,
            body: failure.body,
        }
    }
}

/// The error of a non-success answer whose body has been read.
pub(crate) fn api_error(status: reqwest::StatusCode, bytes: &[u8]) -> ClientError {
    let body = serde_json::from_slice::<ErrorBody>(bytes).unwrap_or_else(|_| ErrorBody {
        error: String::from_utf8_lossy(bytes).chars().take(500).collect(),
        error_type: "http_error".to_owned(),
        field: None,
    });
    ClientError::Api {
        status: status.as_u16(),
        body,
    }
}

/// Reads an answer: the JSON of a success, the error of anything else.
pub(crate) async fn decode<T: DeserializeOwned>(
    url: &str,
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, ClientError> {
    let response = response.map_err(|source| ClientError::transport(url, source))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|source| ClientError::transport(url, source))?;
    if !status.is_success() {
        return Err(api_error(status, &bytes));
    }
    serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))
}

/// Reads an answer whose body does not matter: `Ok` for a success, the error of anything else.
pub(crate) async fn expect_success(
    url: &str,
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<(), ClientError> {
    let response = response.map_err(|source| ClientError::transport(url, source))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|source| ClientError::transport(url, source))?;
    Err(api_error(status, &bytes))
}
