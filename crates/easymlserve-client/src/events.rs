//! [`JobEvents`]: the events of a job or of a streamed request, read from Server-Sent Events. A job's
//! stream resumes by itself when the connection drops (it reconnects with `Last-Event-ID` of the last
//! event seen); every stream ends after its `result` or `error` event.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use easymlserve_core::{JobEvent, JobEventKind};
use futures_util::{Stream, StreamExt};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};

use crate::error::api_error;
use crate::sse::{SseEvent, SseParser};
use crate::{Client, ClientError};

/// Reconnections in a row that may fail (no event in between) before a job's stream gives up.
const MAX_RECONNECTS: u32 = 8;
/// Wait before the first reconnection; it doubles with each failure, up to `MAX_BACKOFF`.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between reconnections.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A stream of [`JobEvent`]s, ending after the `result` or `error` event.
///
/// Use it as a [`Stream`] or with its own [`JobEvents::next`]. An error item is the last one: the stream
/// could not be read or resumed; a job's own failure is not an error item but its `error` event.
pub struct JobEvents {
    inner: Pin<Box<dyn Stream<Item = Result<JobEvent, ClientError>> + Send>>,
}

impl std::fmt::Debug for JobEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobEvents").finish_non_exhaustive()
    }
}

impl JobEvents {
    /// The next event; `None` after the last one.
    pub async fn next(&mut self) -> Option<Result<JobEvent, ClientError>> {
        StreamExt::next(self).await
    }

    /// A stream whose only item is `err`.
    pub(crate) fn failed(err: ClientError) -> Self {
        let inner = futures_util::stream::once(async move { Err(err) });
        Self { inner: Box::pin(inner) }
    }

    pub(crate) fn new(reader: EventReader) -> Self {
        let inner = futures_util::stream::unfold(reader, |mut reader| async move {
            reader.next().await.map(|item| (item, reader))
        });
        Self { inner: Box::pin(inner) }
    }
}

impl Stream for JobEvents {
    type Item = Result<JobEvent, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// How to open (and reopen) the stream.
pub(crate) enum Source {
    /// `GET` a job's events; reconnect with `Last-Event-ID` when the connection drops.
    Job,
    /// `POST` this request with `Accept: text/event-stream`; it cannot be resumed.
    Process(serde_json::Value),
}

/// The state behind [`JobEvents`]: the open response, the parser and the events read ahead.
pub(crate) struct EventReader {
    client: Client,
    url: String,
    source: Source,
    /// The id of the last event handed out (job streams: resume after it).
    last_id: u64,
    /// Events handed out, numbering those without an `id:`.
    count: u64,
    response: Option<reqwest::Response>,
    parser: SseParser,
    ready: VecDeque<JobEvent>,
    failures: u32,
    done: bool,
}

impl EventReader {
    pub(crate) fn new(client: Client, url: String, source: Source, after: u64) -> Self {
        Self {
            client,
            url,
            source,
            last_id: after,
            count: 0,
            response: None,
            parser: SseParser::new(),
            ready: VecDeque::new(),
            failures: 0,
            done: false,
        }
    }

    /// Whether the events read so far are all handed out.
    pub(crate) fn nothing_buffered(&self) -> bool {
        self.ready.is_empty()
    }

    /// The next event, an error (then nothing more), or `None` after the last event.
    pub(crate) async fn next(&mut self) -> Option<Result<JobEvent, ClientError>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                if event.kind.is_terminal() {
                    self.finish();
                }
                self.last_id = self.last_id.max(event.id);
                return Some(Ok(event));
            }
            if self.done {
                return None;
            }
            let step = match self.response.as_mut() {
                None => self.connect().await,
                Some(response) => {
                    let idle = self.client.timeout;
                    match tokio::time::timeout(idle, response.chunk()).await {
                        Ok(Ok(Some(bytes))) => self.read(&bytes),
                        Ok(Ok(None)) => Err(Broken("the server closed the stream".to_owned())),
                        Ok(Err(err)) => Err(Broken(err.to_string())),
                        Err(_) => Err(Broken(format!("nothing arrived for {} s", idle.as_secs_f64()))),
                    }
                }
            };
            match step {
                Ok(()) => {}
                Err(Broken(message)) => {
                    if let Err(err) = self.broken(message).await {
                        self.finish();
                        return Some(Err(err));
                    }
                }
                Err(Fatal(err)) => {
                    self.finish();
                    return Some(Err(err));
                }
            }
        }
    }

    fn finish(&mut self) {
        self.done = true;
        self.response = None;
        self.ready.clear();
    }

    /// Opens the stream; a plain JSON answer (a server without streams) becomes its `result` event.
    async fn connect(&mut self) -> Result<(), Step> {
        let client = &self.client;
        let resumable = matches!(self.source, Source::Job);
        let builder = match &self.source {
            Source::Job => {
                let mut builder = client.http.get(&self.url);
                if self.last_id > 0 {
                    builder = builder.header("Last-Event-ID", self.last_id.to_string());
                }
                builder
            }
            Source::Process(request) => client.http.post(&self.url).json(request),
        };
        let sent = builder
            .headers(client.headers())
            .header(ACCEPT, HeaderValue::from_static("text/event-stream"))
            .send();
        // No timeout on the whole request: a stream lasts as long as the job. Only the wait for the
        // answer's head, and then for each chunk, is bounded.
        let response = match tokio::time::timeout(client.timeout, sent).await {
            Ok(Ok(response)) => response,
            Ok(Err(err)) if resumable => return Err(Broken(ClientError::transport(&self.url, err).to_string())),
            Ok(Err(err)) => return Err(Fatal(ClientError::transport(&self.url, err))),
            Err(_) => return Err(Broken(format!("no answer within {} s", client.timeout.as_secs_f64()))),
        };
        let status = response.status();
        if !status.is_success() {
            let retry = resumable && matches!(status.as_u16(), 502..=504);
            let bytes = response.bytes().await.unwrap_or_default();
            let err = api_error(status, &bytes);
            return Err(if retry { Broken(err.to_string()) } else { Fatal(err) });
        }
        let is_json = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if is_json && !resumable {
            let bytes = response
                .bytes()
                .await
                .map_err(|err| Fatal(ClientError::transport(&self.url, err)))?;
            let value = serde_json::from_slice(&bytes).map_err(|e| Fatal(ClientError::Decode(e.to_string())))?;
            self.count += 1;
            self.ready.push_back(JobEvent {
                id: self.count,
                kind: JobEventKind::Result(value),
            });
            return Ok(());
        }
        self.parser.reset();
        self.response = Some(response);
        Ok(())
    }

    fn read(&mut self, bytes: &[u8]) -> Result<(), Step> {
        for sse in self.parser.feed(bytes) {
            if let Some(event) = self.event(&sse)? {
                self.failures = 0;
                self.ready.push_back(event);
            }
        }
        Ok(())
    }

    /// The job event of an SSE event; `None` for one to skip (an unknown name, an event seen before).
    fn event(&mut self, sse: &SseEvent) -> Result<Option<JobEvent>, Step> {
        if !matches!(
            sse.event.as_str(),
            "queued" | "started" | "progress" | "result" | "error"
        ) {
            return Ok(None);
        }
        let Some(kind) = JobEventKind::from_sse(&sse.event, &sse.data) else {
            let data: String = sse.data.chars().take(200).collect();
            return Err(Fatal(ClientError::Decode(format!(
                "the `{}` event's data is not what it should be: {data}",
                sse.event
            ))));
        };
        let numbered = sse.id.as_deref().and_then(|id| id.trim().parse::<u64>().ok());
        let id = match numbered {
            // A server that ignored `Last-Event-ID` sends the events again from the first.
            Some(id) if id <= self.last_id.max(self.ready.back().map_or(0, |e| e.id)) => return Ok(None),
            Some(id) => id,
            None => self.count + 1,
        };
        self.count += 1;
        Ok(Some(JobEvent { id, kind }))
    }

    /// The connection broke: wait and reconnect (a job), or give up (a streamed request).
    async fn broken(&mut self, message: String) -> Result<(), ClientError> {
        self.response = None;
        let lost = |message: String| ClientError::StreamLost {
            url: self.url.clone(),
            message,
        };
        if !matches!(self.source, Source::Job) {
            return Err(lost(format!("{message} before the last event")));
        }
        if self.failures >= MAX_RECONNECTS {
            return Err(lost(format!("{message}; gave up after {MAX_RECONNECTS} reconnections")));
        }
        // The first break after events reconnects at once; repeated ones back off.
        if self.failures > 0 {
            let asked = self.parser.retry_ms().map(Duration::from_millis);
            let backoff = FIRST_BACKOFF
                .saturating_mul(1 << (self.failures - 1).min(16))
                .min(MAX_BACKOFF);
            tokio::time::sleep(asked.unwrap_or(backoff).max(backoff)).await;
        }
        self.failures += 1;
        Ok(())
    }
}

/// Why a step of reading did not go on.
enum Step {
    /// The connection broke or could not be made; a job's stream reconnects.
    Broken(String),
    /// An answer that reconnecting will not change.
    Fatal(ClientError),
}

use Step::{Broken, Fatal};
