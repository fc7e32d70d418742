//! The easymlserve web GUI: a page served from assets embedded in the binary (no CDN, no npm build),
//! rendered from a UI description. `prepare_request` and `process_response` run in Rust on the server;
//! the page collects values, uploads files and draws what comes back.
//!
//! Two modes, one `Ui`: co-hosted in the service's server (`Server::new(service).with_ui(ui)` in the
//! `easymlserve` crate) or standalone against a remote service ([`WebUi`]).
//!
//! The page and the server speak one stateless exchange: `POST /ui/submit` as `multipart/form-data`,
//! one part per input named after it; the answer is `{"outputs": [{"name", "kind", "value"}],
//! "elapsed_ms"}`, or an error `{"error", "error_type", "field"}`. `POST /ui/preview` parses one
//! uploaded file as its input would and describes it, so problems show before submitting. The answer
//! does not echo the request: the page's "use via API" panel, when opened, posts the form it sent to
//! `POST /ui/request` (which runs `prepare_request` and answers the JSON for `POST /process`, calling
//! nothing) or, for a job, reads `GET /ui/jobs/{id}/request`, and builds its curl command in the page.
//!
//! When the service offers jobs (`ServiceCaller::jobs`), the page submits with `POST /ui/jobs` instead
//! and follows `GET /ui/jobs/{id}/events` (Server-Sent Events: `queued`, `started`, `progress`, then
//! `outputs` with what `/ui/submit` answers, or `error`), showing a progress bar and a Cancel button
//! (`POST /ui/jobs/{id}/cancel`); the job's id in the URL fragment lets a reloaded page find it again.
//! Replicas sharing a job store need no sticky sessions: one that did not take the form reads the job's
//! request back from the store and renders the answer itself.

mod error;
mod events;
mod examples;
mod form;
mod jobs;
mod routes;
mod runner;
mod standalone;

pub use error::UiApiError;
pub use examples::{ExampleCache, cache_examples, start_example_cache};
pub use routes::{UiRoutes, ui_routes};
pub use runner::{PageInfo, PageSpec, Preview, ServiceTexts, SubmitAnswer, UiRunner, UiSource, fill_texts};
pub use standalone::{WebError, WebUi};
