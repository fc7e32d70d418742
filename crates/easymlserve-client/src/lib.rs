//! A typed client for the easymlserve REST contract: `/process`, `/api/spec` and the health probes,
//! with an optional API key and a timeout; jobs and event streams with progress, resume and cancel
//! (docs/jobs.md). Errors carry the server's `error` and `error_type`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), easymlserve_client::ClientError> {
//! let client = easymlserve_client::Client::new("http://127.0.0.1:8000")?;
//! let answer = client.process_json(&serde_json::json!({"text": "hi", "repeat": 2})).await?;
//! println!("{answer}");
//!
//! // The same request as a job: follow its progress, then take the result.
//! let job = client.submit(&serde_json::json!({"text": "hi", "repeat": 2})).await?;
//! let mut events = job.events();
//! while let Some(event) = events.next().await {
//!     if let easymlserve_core::JobEventKind::Progress(report) = event?.kind {
//!         println!("{:?} {}", report.fraction, report.message);
//!     }
//! }
//! println!("{}", job.wait().await?);
//! # Ok(()) }
//! ```

mod caller;
mod error;
mod events;
mod jobs;
pub mod sse;

use std::time::Duration;

use easymlserve_core::ServiceSpec;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use error::ClientError;
use error::decode;
pub use events::JobEvents;
pub use jobs::{JobHandle, is_valid_job_id};

/// Environment variable a client reads its API key from, when none is set in code.
pub const ENV_API_KEY: &str = "EASYMLSERVE_API_KEY";

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

    /// Gives up on a request after `timeout`; an event stream (a job's, or `process_stream`) gives up
    /// on a connection that stays silent this long, keep-alive comments included (the server sends one
    /// every 15 s), and a job's stream then reconnects.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The headers every request carries (the API key).
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
