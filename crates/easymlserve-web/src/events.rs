//! `GET /ui/jobs/{id}/events`: follows one job with [`JobCaller::events_after`] and speaks Server-Sent
//! Events to the page. `queued`, `started` and `progress` pass through with their ids; `result` becomes
//! `outputs` (what `/ui/submit` answers, rendered by `process_response`) and `error` the GUI's error
//! shape. The first event, `job` (no id), says how long ago the form was submitted, for the page's clock.
//!
//! [`JobCaller::events_after`]: easymlserve_core::JobCaller::events_after

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::Event;
use easymlserve_core::{JobEvent, JobEventKind};
use futures_util::Stream;

use crate::error::UiApiError;
use crate::jobs::PageJob;
use crate::runner::UiRunner;

/// How often an unreachable service is asked again before the stream gives up with an error.
const UNREACHABLE_TRIES: u32 = 5;
/// The wait between those tries.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// One page's view of one job.
struct Follow {
    runner: Arc<UiRunner>,
    id: String,
    job: Arc<PageJob>,
    /// The id of the last event passed on.
    after: u64,
    ready: VecDeque<Event>,
    finished: bool,
    unreachable: u32,
}

/// The events of job `id` after event number `after`, ending with `outputs` or `error`.
pub fn follow(
    runner: Arc<UiRunner>,
    id: String,
    job: Arc<PageJob>,
    after: u64,
) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    let hello = serde_json::json!({"id": id, "elapsed_s": job.submitted.elapsed().as_secs_f64()});
    let state = Follow {
        runner,
        id,
        job,
        after,
        ready: VecDeque::from([Event::default().event("job").data(hello.to_string())]),
        finished: false,
        unreachable: 0,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(event) = state.ready.pop_front() {
                return Some((Ok(event), state));
            }
            if state.finished {
                return None;
            }
            state.next_events().await;
        }
    })
}

impl Follow {
    /// Asks for the next events and queues what the page is to see of them.
    async fn next_events(&mut self) {
        let asked = match self.runner.job_caller() {
            Ok(jobs) => jobs.events_after(&self.id, self.after).await,
            Err(err) => return self.end(None, &err),
        };
        match asked {
            Ok(events) => {
                self.unreachable = 0;
                for event in events {
                    self.pass_on(event).await;
                    if self.finished {
                        return;
                    }
                }
            }
            // The GUI server lost the service for a moment (REST): ask again a few times.
            Err(err) if err.status.is_none() && self.unreachable + 1 < UNREACHABLE_TRIES => {
                self.unreachable += 1;
                tokio::time::sleep(RETRY_AFTER).await;
            }
            Err(err) => {
                let names = self.runner.input_names().unwrap_or_default();
                self.end(None, &UiApiError::from_call(err, names));
            }
        }
    }

    async fn pass_on(&mut self, event: JobEvent) {
        if event.id <= self.after {
            return;
        }
        self.after = event.id;
        match event.kind {
            JobEventKind::Result(response) => match self.runner.show_job(&self.job, response).await {
                Ok(answer) => {
                    let data = serde_json::to_string(&answer).unwrap_or_default();
                    self.ready
                        .push_back(Event::default().id(event.id.to_string()).event("outputs").data(data));
                    self.finished = true;
                }
                Err(err) => self.end(Some(event.id), &err),
            },
            JobEventKind::Error(failure) => {
                let err = self.runner.job_error(failure);
                self.end(Some(event.id), &err);
            }
            other => {
                let data = other.data().to_string();
                self.ready
                    .push_back(Event::default().id(event.id.to_string()).event(other.name()).data(data));
            }
        }
    }

    /// Ends the stream with `err` in the GUI's error shape, plus its status.
    fn end(&mut self, id: Option<u64>, err: &UiApiError) {
        let mut data = serde_json::to_value(&err.body).unwrap_or_default();
        if let Some(object) = data.as_object_mut() {
            object.insert("status".to_owned(), err.status.into());
        }
        let mut event = Event::default().event("error").data(data.to_string());
        if let Some(id) = id {
            event = event.id(id.to_string());
        }
        self.ready.push_back(event);
        self.finished = true;
    }
}
