//! A typed client for the easymlserve REST contract: `/process`, `/api/spec` and the health probes,
//! with an optional API key and a timeout. Errors carry the server's `error` and `error_type`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), easymlserve_client::ClientError> {
//! let client = easymlserve_client::Client::new("http://127.0.0.1:8000")?;
//! let answer = client.process_json(&serde_json::json!({"text": "hi", "repeat": 2})).await?;
//! println!("{answer}");
//! # Ok(()) }
//! ```

use std::time::Duration;

use easymlserve_core::{BoxFuture, CallError, ErrorBody, ServiceCaller, ServiceSpec};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Environment variable a client reads its API key from, when none is set in code.
pub const ENV_API_KEY: &str = "EASYMLSERVE_API_KEY";

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
    /// The service answered with an error status.
    #[error("the service answered {status}: {} ({})", .body.error, .body.error_type)]
    Api {
        /// The HTTP status code.
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
}

/// A client for one service.
#[derive(Debug, Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    timeout: Duration,
    api_key: Option<HeaderValue>,
}

impl Client {
    /// A client for the service at `base_url` (such as `http://127.0.0.1:8000`), with a 60 s timeout
    /// and the API key from `EASYMLSERVE_API_KEY` if that is set.
    pub fn new(base_url: impl Into<String>) -> Result<Self, ClientError> {
        let url = base_url.into();
        let base = url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) || base.len() <= "https://".len() {
            return Err(ClientError::InvalidUrl {
                url,
                message: "it must start with http:// or https://".to_owned(),
            });
        }
        let client = Self {
            base,
            http: reqwest::Client::new(),
            timeout: Duration::from_secs(60),
            api_key: None,
        };
        match std::env::var(ENV_API_KEY) {
            Ok(key) if !key.is_empty() => client.api_key(&key),
            _ => Ok(client),
        }
    }

    /// Sends `key` with every request as `Authorization: Bearer <key>`.
    pub fn api_key(mut self, key: &str) -> Result<Self, ClientError> {
        let mut value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| ClientError::InvalidApiKey)?;
        value.set_sensitive(true);
        self.api_key = Some(value);
        Ok(self)
    }

    /// Gives up on a request after `timeout`.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.api_key {
            headers.insert(AUTHORIZATION, key.clone());
        }
        headers
    }

    /// Calls `POST /process` with a typed request and response.
    pub async fn process<Req: Serialize + ?Sized, Resp: DeserializeOwned>(
        &self,
        request: &Req,
    ) -> Result<Resp, ClientError> {
        let url = format!("{}/process", self.base);
        let response = self
            .http
            .post(&url)
            .headers(self.headers())
            .timeout(self.timeout)
            .json(request)
            .send()
            .await;
        decode(&url, response).await
    }

    /// Calls `POST /process` with raw JSON.
    pub async fn process_json(&self, request: &serde_json::Value) -> Result<serde_json::Value, ClientError> {
        self.process(request).await
    }

    /// Fetches `GET /api/spec`.
    pub async fn spec(&self) -> Result<ServiceSpec, ClientError> {
        self.get_json("/api/spec").await
    }

    /// Fetches `GET /openapi.json`.
    pub async fn openapi(&self) -> Result<serde_json::Value, ClientError> {
        self.get_json("/openapi.json").await
    }

    /// Whether `GET /health/live` answers 200.
    pub async fn live(&self) -> Result<(), ClientError> {
        self.get_json::<serde_json::Value>("/health/live").await.map(drop)
    }

    /// Whether `GET /health/ready` answers 200; the error says why not.
    pub async fn ready(&self) -> Result<(), ClientError> {
        self.get_json::<serde_json::Value>("/health/ready").await.map(drop)
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let url = format!("{}{path}", self.base);
        let response = self
            .http
            .get(&url)
            .headers(self.headers())
            .timeout(self.timeout)
            .send()
            .await;
        decode(&url, response).await
    }
}

async fn decode<T: DeserializeOwned>(
    url: &str,
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<T, ClientError> {
    let response = response.map_err(|source| ClientError::Transport {
        url: url.to_owned(),
        source,
    })?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|source| ClientError::Transport {
        url: url.to_owned(),
        source,
    })?;
    if !status.is_success() {
        let body = serde_json::from_slice::<ErrorBody>(&bytes).unwrap_or_else(|_| ErrorBody {
            error: String::from_utf8_lossy(&bytes).chars().take(500).collect(),
            error_type: "http_error".to_owned(),
            field: None,
        });
        return Err(ClientError::Api {
            status: status.as_u16(),
            body,
        });
    }
    serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))
}

impl ServiceCaller for Client {
    fn call(&self, request: serde_json::Value) -> BoxFuture<'_, Result<serde_json::Value, CallError>> {
        Box::pin(async move {
            self.process_json(&request).await.map_err(|err| match err {
                ClientError::Api { status, body } => CallError {
                    status: Some(status),
                    body,
                },
                ClientError::Transport { url, source } if source.is_timeout() => {
                    CallError::unreachable(format!("the service at {url} did not answer in time"))
                }
                ClientError::Transport { url, .. } => {
                    CallError::unreachable(format!("the service at {url} cannot be reached; is it running?"))
                }
                other => CallError::unreachable(other.to_string()),
            })
        })
    }
}
