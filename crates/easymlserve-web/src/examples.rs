//! The GUI's examples to click (issue 18 item 1): the routes that hand the page an example's files and
//! thumbnail, and, with `--cache-examples`, the outputs of every example computed once the model is
//! ready, so a click shows the result without a submit (and without calling the model again).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use easymlserve_core::ErrorBody;
use easymlserve_ui::Example;

use crate::error::UiApiError;
use crate::runner::{SubmitAnswer, UiRunner};

/// How often the caching task looks whether the model (and so the UI) is ready.
const READY_POLL: Duration = Duration::from_millis(50);

/// The examples' outputs, one slot per example, filled by [`cache_examples`].
#[derive(Debug, Default)]
pub struct ExampleCache {
    enabled: bool,
    answers: Mutex<Vec<Option<Result<SubmitAnswer, UiApiError>>>>,
}

impl ExampleCache {
    /// A cache that will be filled (`enabled`) or stays empty.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            answers: Mutex::default(),
        }
    }

    /// Whether the examples' outputs are computed at start.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    fn get(&self, index: usize) -> Option<Result<SubmitAnswer, UiApiError>> {
        let answers = self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        answers.get(index).cloned().flatten()
    }

    fn put(&self, index: usize, answer: Result<SubmitAnswer, UiApiError>) {
        let mut answers = self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if answers.len() <= index {
            answers.resize(index + 1, None);
        }
        answers[index] = Some(answer);
    }
}

/// Runs every example of `runner`'s UI through the normal submit path once the UI exists (after the
/// model has loaded), one after the other, and keeps each answer (or error) for
/// `GET /ui/examples/{i}/result`. Does nothing unless the runner's cache is enabled.
pub async fn cache_examples(runner: Arc<UiRunner>) {
    if !runner.example_cache().enabled() {
        return;
    }
    let examples = loop {
        if let Ok(examples) = runner.examples() {
            break examples;
        }
        tokio::time::sleep(READY_POLL).await;
    };
    for (index, example) in examples.iter().enumerate() {
        let answer = runner.submit(example.raw()).await;
        if let Err(err) = &answer {
            tracing::warn!(example = %example.label, error = %err, "an example's outputs could not be cached");
        }
        runner.example_cache().put(index, answer);
    }
    tracing::info!(count = examples.len(), "the examples' outputs are cached");
}

/// Starts [`cache_examples`] on the current tokio runtime when the runner's cache is enabled; without
/// a runtime (only the router is built, e.g. for the OpenAPI document) there is nothing to serve and
/// nothing is started.
pub fn start_example_cache(runner: &Arc<UiRunner>) {
    if !runner.example_cache().enabled() {
        return;
    }
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(cache_examples(Arc::clone(runner)));
    }
}

/// `GET /ui/examples/{i}/files/{input}`, `GET /ui/examples/{i}/thumbnail` (open, like the page) and
/// `GET /ui/examples/{i}/result` (behind the API keys, like a submit).
pub fn example_routes(runner: Arc<UiRunner>) -> (Router, Router) {
    let public = Router::new()
        .route("/ui/examples/{index}/files/{input}", get(file))
        .route("/ui/examples/{index}/thumbnail", get(thumbnail))
        .with_state(Arc::clone(&runner));
    let protected = Router::new()
        .route("/ui/examples/{index}/result", get(result))
        .with_state(runner);
    (public, protected)
}

fn not_found(error_type: &str, error: String) -> UiApiError {
    UiApiError {
        status: 404,
        body: ErrorBody {
            error,
            error_type: error_type.to_owned(),
            field: None,
        },
    }
}

fn example(runner: &UiRunner, index: usize) -> Result<Example, UiApiError> {
    runner
        .examples()?
        .get(index)
        .cloned()
        .ok_or_else(|| not_found("not_found", format!("this GUI has no example {index}")))
}

async fn file(
    State(runner): State<Arc<UiRunner>>,
    Path((index, input)): Path<(usize, String)>,
) -> Result<Response, UiApiError> {
    let example = example(&runner, index)?;
    let file = example.file_of(&input).ok_or_else(|| {
        not_found(
            "not_found",
            format!("example {index} has no file for the input `{input}`"),
        )
    })?;
    let name = easymlserve_ui::sanitize_file_name(&file.name);
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        file.bytes.clone(),
    )
        .into_response())
}

async fn thumbnail(State(runner): State<Arc<UiRunner>>, Path(index): Path<usize>) -> Result<Response, UiApiError> {
    let example = example(&runner, index)?;
    let inputs = runner.page_spec()?.ui.inputs;
    let png = example
        .thumbnail(&inputs)
        .ok_or_else(|| not_found("not_found", format!("example {index} has no image to show")))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// The cached outputs of example `index`, as `/ui/submit` answers them; 404 `not_cached` when the
/// server runs without `--cache-examples`, 503 `not_ready` while they are still being computed.
async fn result(State(runner): State<Arc<UiRunner>>, Path(index): Path<usize>) -> Result<Response, UiApiError> {
    example(&runner, index)?;
    let cache = runner.example_cache();
    match cache.get(index) {
        Some(answer) => Ok(axum::Json(answer?).into_response()),
        None if cache.enabled() => Err(UiApiError {
            status: 503,
            body: ErrorBody {
                error: format!("the outputs of example {index} are still being computed"),
                error_type: "not_ready".to_owned(),
                field: None,
            },
        }),
        None => Err(not_found(
            "not_cached",
            format!("the outputs of example {index} are not cached (start the server with --cache-examples)"),
        )),
    }
}
