//! Jobs: a request run in the background (`POST /process` with `Prefer: respond-async`, or
//! `PUT /jobs/{id}` under the caller's own id) and the [`JobHandle`] that follows, waits for, cancels
//! or deletes it; and [`Client::process_stream`], the same events on the connection of one request.

use easymlserve_core::{JobEventKind, JobState};
use reqwest::StatusCode;
use reqwest::header::{HeaderValue, LOCATION};
use serde::Serialize;

use crate::error::{api_error, decode, expect_success};
use crate::events::{EventReader, Source};
use crate::{Client, ClientError, JobEvents};

/// The longest job id the server takes.
const MAX_ID_LEN: usize = 128;

/// Whether the server takes `id` as a job id: 1 to 128 characters of `A-Z a-z 0-9 - _ .`.
pub fn is_valid_job_id(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl Client {
    /// Submits `request` as a job (`POST /process` with `Prefer: respond-async`); the server checks
    /// the body first, so a bad request fails here with its usual `400`/`422` error.
    pub async fn submit<Req: Serialize + ?Sized>(&self, request: &Req) -> Result<JobHandle, ClientError> {
        let url = format!("{}/process", self.base);
        let response = self
            .http
            .post(&url)
            .headers(self.headers())
            .header("Prefer", HeaderValue::from_static("respond-async"))
            .timeout(self.timeout)
            .json(request)
            .send()
            .await
            .map_err(|source| ClientError::transport(&url, source))?;
        let status = response.status();
        if status != StatusCode::ACCEPTED {
            let bytes = response
                .bytes()
                .await
                .map_err(|source| ClientError::transport(&url, source))?;
            if status.is_success() {
                return Err(ClientError::Decode(format!(
                    "`POST /process` answered {status} instead of 202 Accepted: the service does not run jobs"
                )));
            }
            return Err(api_error(status, &bytes));
        }
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let id = job_id_of(location).ok_or_else(|| {
            ClientError::Decode(format!(
                "the `Location` of the new job is `{location}`, not `/jobs/{{id}}`"
            ))
        })?;
        self.job(id)
    }

    /// Submits `request` as a job under the caller's own `id` (`PUT /jobs/{id}`). Sending the same
    /// request again under the same id gives the existing job, not a second run; another request under
    /// an id in use fails with `409`.
    pub async fn submit_with_id<Req: Serialize + ?Sized>(
        &self,
        id: &str,
        request: &Req,
    ) -> Result<JobHandle, ClientError> {
        let job = self.job(id)?;
        let response = self
            .http
            .put(job.url(""))
            .headers(self.headers())
            .timeout(self.timeout)
            .json(request)
            .send()
            .await;
        decode::<JobState>(&job.url(""), response).await?;
        Ok(job)
    }

    /// A handle on the job `id`, submitted earlier (by this or another client); nothing is sent.
    pub fn job(&self, id: &str) -> Result<JobHandle, ClientError> {
        if !is_valid_job_id(id) {
            return Err(ClientError::InvalidJobId(id.to_owned()));
        }
        Ok(JobHandle {
            client: self.clone(),
            id: id.to_owned(),
        })
    }

    /// Sends `request` to `POST /process` asking for Server-Sent Events: the events of a job, on this
    /// one connection. It cannot be resumed (the server cancels the request when the connection
    /// closes, so dropping the stream cancels it too); events are numbered in the order they arrive.
    pub fn process_stream<Req: Serialize + ?Sized>(&self, request: &Req) -> JobEvents {
        let url = format!("{}/process", self.base);
        let body = serde_json::to_value(request);
        match body {
            Ok(body) => JobEvents::new(EventReader::new(self.clone(), url, Source::Process(body), 0)),
            Err(err) => JobEvents::failed(ClientError::Decode(format!("the request is not JSON: {err}"))),
        }
    }
}

/// The id in a job's `Location`: `/jobs/{id}` or a full URL ending in it.
fn job_id_of(location: &str) -> Option<&str> {
    let path = location.split(['?', '#']).next()?;
    let (_, id) = path.rsplit_once("/jobs/")?;
    is_valid_job_id(id).then_some(id)
}

/// A submitted job: follow its events, wait for its result, cancel or delete it.
#[derive(Debug, Clone)]
pub struct JobHandle {
    client: Client,
    id: String,
}

impl JobHandle {
    /// The job's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The URL of the job's route `tail` (`""`, `/events`, `/cancel`).
    pub(crate) fn url(&self, tail: &str) -> String {
        format!("{}/jobs/{}{tail}", self.client.base, self.id)
    }

    /// The job's state now (`GET /jobs/{id}`).
    pub async fn status(&self) -> Result<JobState, ClientError> {
        let url = self.url("");
        let response = self
            .client
            .http
            .get(&url)
            .headers(self.client.headers())
            .timeout(self.client.timeout)
            .send()
            .await;
        decode(&url, response).await
    }

    /// The job's events from the first (`GET /jobs/{id}/events`), ending after the `result` or `error`
    /// event; a dropped connection is resumed where it broke off.
    pub fn events(&self) -> JobEvents {
        self.events_after(0)
    }

    /// The job's events after event number `after`.
    pub fn events_after(&self, after: u64) -> JobEvents {
        JobEvents::new(EventReader::new(
            self.client.clone(),
            self.url("/events"),
            Source::Job,
            after,
        ))
    }

    /// Follows the job to its end: its result, or its failure as [`ClientError::Api`] with the status
    /// and `error_type` the job ended with (`canceled` for a canceled job).
    pub async fn wait(&self) -> Result<serde_json::Value, ClientError> {
        let mut events = self.events();
        while let Some(event) = events.next().await {
            match event?.kind {
                JobEventKind::Result(value) => return Ok(value),
                JobEventKind::Error(failure) => return Err(failure.into()),
                _ => {}
            }
        }
        Err(ClientError::StreamLost {
            url: self.url("/events"),
            message: "the stream ended without a result".to_owned(),
        })
    }

    /// Asks the server to cancel the job (`POST /jobs/{id}/cancel`); returns its state then. The job
    /// ends with an `error` event of type `canceled` once the model has stopped.
    pub async fn cancel(&self) -> Result<JobState, ClientError> {
        let url = self.url("/cancel");
        let response = self
            .client
            .http
            .post(&url)
            .headers(self.client.headers())
            .timeout(self.client.timeout)
            .send()
            .await;
        decode(&url, response).await
    }

    /// Makes the server forget the job, canceling it first if it still runs (`DELETE /jobs/{id}`).
    pub async fn delete(&self) -> Result<(), ClientError> {
        let url = self.url("");
        let response = self
            .client
            .http
            .delete(&url)
            .headers(self.client.headers())
            .timeout(self.client.timeout)
            .send()
            .await;
        expect_success(&url, response).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_are_checked_as_the_server_does() {
        assert!(is_valid_job_id("job-5f0c.1_a"));
        assert!(is_valid_job_id(&"a".repeat(128)));
        for bad in ["", "a/b", "a b", "ä", "..%2f", &"a".repeat(129)] {
            assert!(!is_valid_job_id(bad), "{bad}");
        }
    }

    #[test]
    fn the_id_comes_from_a_relative_or_absolute_location() {
        assert_eq!(job_id_of("/jobs/job-1"), Some("job-1"));
        assert_eq!(job_id_of("http://h:1/base/jobs/x.2?k=v"), Some("x.2"));
        assert_eq!(job_id_of("/jobs/"), None);
        assert_eq!(job_id_of("/other/1"), None);
        assert_eq!(job_id_of("/jobs/a/b"), None);
    }
}
