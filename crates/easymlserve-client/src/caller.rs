//! The client behind the GUIs' traits: [`ServiceCaller`] for plain calls and [`JobCaller`] for jobs,
//! so a standalone GUI gets progress and cancel over REST as a co-hosted one does in process.

use std::time::Duration;

use easymlserve_core::{BoxFuture, CallError, JobCaller, JobEvent, ServiceCaller};

use crate::events::{EventReader, Source};
use crate::{Client, ClientError};

/// How long [`JobCaller::events_after`] waits for a first event before answering with none.
const EVENTS_WAIT: Duration = Duration::from_secs(10);

impl ServiceCaller for Client {
    fn call(&self, request: serde_json::Value) -> BoxFuture<'_, Result<serde_json::Value, CallError>> {
        Box::pin(async move { self.process_json(&request).await.map_err(ClientError::into_call_error) })
    }

    /// `POST /process`, answering the response body as it arrived: a GUI reads it once, into its
    /// response type, instead of parsing it to a `serde_json::Value` and that again.
    fn call_bytes(&self, request: serde_json::Value) -> BoxFuture<'_, Result<Vec<u8>, CallError>> {
        Box::pin(async move {
            let url = format!("{}/process", self.base);
            let transport = |source| ClientError::transport(&url, source).into_call_error();
            let response = self
                .http
                .post(&url)
                .headers(self.headers())
                .timeout(self.timeout)
                .json(&request)
                .send()
                .await
                .map_err(transport)?;
            let status = response.status();
            let bytes = response.bytes().await.map_err(transport)?;
            if !status.is_success() {
                return Err(crate::error::api_error(status, &bytes).into_call_error());
            }
            Ok(Vec::from(bytes))
        })
    }

    fn jobs(&self) -> Option<&dyn JobCaller> {
        Some(self)
    }
}

impl JobCaller for Client {
    fn submit(&self, request: serde_json::Value) -> BoxFuture<'_, Result<String, CallError>> {
        Box::pin(async move {
            let job = Client::submit(self, &request)
                .await
                .map_err(ClientError::into_call_error)?;
            Ok(job.id().to_owned())
        })
    }

    /// Opens the job's events with `Last-Event-ID: after` and answers with what arrives: as soon as
    /// there is at least one event and no more are already read, or with none after 10 s.
    fn events_after<'a>(&'a self, id: &'a str, after: u64) -> BoxFuture<'a, Result<Vec<JobEvent>, CallError>> {
        Box::pin(async move {
            let job = self.job(id).map_err(ClientError::into_call_error)?;
            let mut reader = EventReader::new(self.clone(), job.url("/events"), Source::Job, after);
            let deadline = tokio::time::Instant::now() + EVENTS_WAIT;
            let mut events = Vec::new();
            loop {
                let next = if events.is_empty() {
                    tokio::time::timeout_at(deadline, reader.next()).await
                } else if reader.nothing_buffered() {
                    // Only what has arrived already: one poll, no waiting.
                    tokio::time::timeout(Duration::ZERO, reader.next()).await
                } else {
                    Ok(reader.next().await)
                };
                match next {
                    Ok(Some(Ok(event))) => {
                        let last = event.kind.is_terminal();
                        events.push(event);
                        if last {
                            break;
                        }
                    }
                    Ok(Some(Err(err))) if events.is_empty() => return Err(err.into_call_error()),
                    Ok(Some(Err(_)) | None) | Err(_) => break,
                }
            }
            Ok(events)
        })
    }

    fn cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), CallError>> {
        Box::pin(async move {
            let job = self.job(id).map_err(ClientError::into_call_error)?;
            job.cancel().await.map(drop).map_err(ClientError::into_call_error)
        })
    }

    /// No route gives a job's request back over HTTP (it stays with the server), so: `None`.
    fn request<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<serde_json::Value>, CallError>> {
        Box::pin(async move {
            self.job(id).map_err(ClientError::into_call_error)?;
            Ok(None)
        })
    }
}
