//! Server-Sent Events: a `POST /process` answered as a stream on the same connection (dropping the
//! connection drops the execution, which cancels the request), and a job's numbered events read from
//! the store with replay after `Last-Event-ID`. Both end after exactly one `result` or `error` and send
//! keep-alive comments while nothing happens.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use easymlserve_core::{JobEvent, JobEventKind, ProgressReport};
use futures_util::stream::{self, Stream};

use super::Jobs;
use super::driver::failure_of;
use crate::engine::{Event, Execution};

/// How long one read of a job's events waits before it looks again.
const JOB_POLL: Duration = Duration::from_secs(10);
/// How often a streamed request's queue position and start are looked at.
const TICK: Duration = Duration::from_millis(100);

fn sse_event(kind: &JobEventKind, id: Option<u64>) -> SseEvent {
    let event = SseEvent::default().event(kind.name()).data(kind.data().to_string());
    match id {
        Some(id) => event.id(id.to_string()),
        None => event,
    }
}

fn respond<S>(events: S, keep_alive: Duration) -> Response
where
    S: Stream<Item = Result<SseEvent, Infallible>> + Send + 'static,
{
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(keep_alive).text("keep-alive"))
        .into_response();
    // Proxies such as nginx buffer responses unless told not to; a stream must not be buffered.
    response
        .headers_mut()
        .insert("x-accel-buffering", axum::http::HeaderValue::from_static("no"));
    response
}

/// What the stream of one `POST /process` has sent so far.
struct Streamed {
    execution: Execution,
    position: Option<u64>,
    started: Option<Instant>,
    /// An event held back while `started` goes first.
    held: Option<JobEventKind>,
    done: bool,
}

/// A streamed `POST /process`: `queued`, `started`, `progress`, then `result` or `error`.
pub(crate) fn stream_execution(execution: Execution, keep_alive: Duration) -> Response {
    let state = Streamed {
        position: None,
        started: None,
        held: None,
        done: false,
        execution,
    };
    let events = stream::unfold(state, |mut s| async move {
        if let Some(kind) = s.held.take() {
            return Some((Ok(sse_event(&kind, None)), s));
        }
        if s.done {
            return None;
        }
        loop {
            if s.started.is_none() {
                if s.execution.has_started() {
                    s.started = Some(Instant::now());
                    return Some((Ok(sse_event(&JobEventKind::Started {}, None)), s));
                }
                if let Some(position) = s.execution.queue_position()
                    && s.position != Some(position)
                {
                    s.position = Some(position);
                    return Some((Ok(sse_event(&JobEventKind::Queued { position }, None)), s));
                }
            }
            let next = tokio::time::timeout(TICK, s.execution.next()).await;
            let kind = match next {
                Err(_) => continue,
                Ok(Some(Event::Progress(p))) => {
                    let elapsed = s.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
                    JobEventKind::Progress(ProgressReport::new(p.fraction, p.message, elapsed))
                }
                Ok(Some(Event::Result(bytes))) => {
                    s.done = true;
                    JobEventKind::Result(serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
                }
                Ok(Some(Event::Error(err))) => {
                    s.done = true;
                    JobEventKind::Error(failure_of(err))
                }
                Ok(None) => return None,
            };
            // Progress or a result means a worker took it, even if no tick saw it start.
            if s.started.is_none() && !matches!(kind, JobEventKind::Error(_)) {
                s.started = Some(Instant::now());
                s.held = Some(kind);
                return Some((Ok(sse_event(&JobEventKind::Started {}, None)), s));
            }
            return Some((Ok(sse_event(&kind, None)), s));
        }
    });
    respond(events, keep_alive)
}

/// Where a job's event stream is.
struct Following {
    jobs: Arc<Jobs>,
    id: String,
    owner: Option<String>,
    after: u64,
    buffered: std::collections::VecDeque<JobEvent>,
    done: bool,
}

/// A job's events after `after`, then live ones until the terminal event. The first state check was
/// made by the caller, so a missing job or a wrong key got its JSON error before the stream began.
pub(crate) fn stream_job(jobs: Arc<Jobs>, id: String, owner: Option<String>, after: u64) -> Response {
    let keep_alive = jobs.config().keep_alive;
    let state = Following {
        jobs,
        id,
        owner,
        after,
        buffered: std::collections::VecDeque::new(),
        done: false,
    };
    let events = stream::unfold(state, |mut s| async move {
        loop {
            if let Some(event) = s.buffered.pop_front() {
                s.after = event.id;
                s.done = event.kind.is_terminal();
                return Some((Ok(sse_event(&event.kind, Some(event.id))), s));
            }
            if s.done {
                return None;
            }
            match s.jobs.events_after(&s.id, s.owner.as_deref(), s.after, JOB_POLL).await {
                Ok((events, record)) => {
                    if events.is_empty() && record.status.is_terminal() {
                        return None;
                    }
                    s.buffered.extend(events);
                }
                Err(crate::error::ApiError::JobNotFound(_) | crate::error::ApiError::JobForbidden(_)) => return None,
                Err(err) => {
                    // The store is down: say so as a comment and look again shortly; the client keeps
                    // its place through the event ids.
                    tracing::warn!(job = %s.id, %err, "job events unavailable");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    return Some((Ok(SseEvent::default().comment(format!("unavailable: {err}"))), s));
                }
            }
        }
    });
    respond(events, keep_alive)
}
