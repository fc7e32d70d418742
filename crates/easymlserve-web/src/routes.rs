//! The GUI's routes: the page and its embedded assets (open), and the form endpoints that run the
//! model, plainly or as a job the page follows (protected by the server's API keys when co-hosted).

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use easymlserve_ui::RawInput;

use crate::error::UiApiError;
use crate::events::follow;
use crate::form::read_form;
use crate::runner::UiRunner;

/// The page: scripts and styles only from this origin, no inline code, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
                   connect-src 'self'; media-src 'self' blob:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The embedded assets: name, MIME type, contents.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../assets/style.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/app.js"),
    ),
    (
        "inputs.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/inputs.js"),
    ),
    (
        "outputs.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/outputs.js"),
    ),
    (
        "progress.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/progress.js"),
    ),
    (
        "plot.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/plot.js"),
    ),
    (
        "rich.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/rich.js"),
    ),
    (
        "rich.css",
        "text/css; charset=utf-8",
        include_str!("../assets/rich.css"),
    ),
    (
        "camera.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/camera.js"),
    ),
    (
        "dataframe.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/dataframe.js"),
    ),
    (
        "audio.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/audio.js"),
    ),
    (
        "numbers.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/numbers.js"),
    ),
    (
        "theme.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/theme.js"),
    ),
    (
        "examples.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/examples.js"),
    ),
];

const INDEX: &str = include_str!("../assets/index.html");

/// The two groups of GUI routes.
pub struct UiRoutes {
    /// `/ui`, `/ui/`, `/ui/assets/{file}`, `/ui/spec`.
    pub public: Router,
    /// `POST /ui/submit`, `POST /ui/request`, `POST /ui/preview`, `POST /ui/jobs`,
    /// `GET /ui/jobs/{id}/events`, `POST /ui/jobs/{id}/cancel`, `GET /ui/jobs/{id}/request`.
    pub protected: Router,
}

/// The routes of a GUI served by `runner`.
pub fn ui_routes(runner: Arc<UiRunner>) -> UiRoutes {
    let (example_files, example_results) = crate::examples::example_routes(Arc::clone(&runner));
    let public = Router::new()
        .route("/ui", get(|| async { Redirect::permanent("/ui/") }))
        .route("/ui/", get(index))
        .route("/ui/assets/{file}", get(asset))
        .route("/ui/spec", get(spec))
        .with_state(Arc::clone(&runner))
        .merge(example_files);
    // The form reader enforces the limit itself; axum's 2 MB default must not cut in first.
    let protected = Router::new()
        .route("/ui/submit", post(submit))
        .route("/ui/request", post(request_of))
        .route("/ui/preview", post(preview))
        .route("/ui/jobs", post(submit_job))
        .route("/ui/jobs/{id}/events", get(job_events))
        .route("/ui/jobs/{id}/cancel", post(cancel_job))
        .route("/ui/jobs/{id}/request", get(job_request))
        .layer(DefaultBodyLimit::max(runner.body_limit().saturating_add(64 * 1024)))
        .with_state(runner)
        .merge(example_results);
    UiRoutes { public, protected }
}

fn secured(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn index() -> Response {
    secured(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], INDEX).into_response())
}

async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, mime, body)) => secured(([(header::CONTENT_TYPE, *mime)], *body).into_response()),
        None => {
            let body = serde_json::json!({"error": format!("no asset named `{file}`"), "error_type": "not_found"});
            (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
        }
    }
}

async fn spec(State(runner): State<Arc<UiRunner>>) -> Result<Response, UiApiError> {
    Ok(axum::Json(runner.page_spec()?).into_response())
}

async fn submit(State(runner): State<Arc<UiRunner>>, form: Multipart) -> Result<Response, UiApiError> {
    let raw = read_form(form, runner.input_names()?, runner.body_limit()).await?;
    let answer = runner.submit(raw).await?;
    Ok(axum::Json(answer).into_response())
}

/// `POST /ui/request`: the form of `/ui/submit`, answered with the JSON request it makes for
/// `POST /process` (the page's "use via API" panel), without calling the service.
async fn request_of(State(runner): State<Arc<UiRunner>>, form: Multipart) -> Result<Response, UiApiError> {
    let raw = read_form(form, runner.input_names()?, runner.body_limit()).await?;
    Ok(axum::Json(runner.request_of(raw)?).into_response())
}

async fn preview(State(runner): State<Arc<UiRunner>>, form: Multipart) -> Result<Response, UiApiError> {
    let mut raw = read_form(form, runner.input_names()?, runner.body_limit()).await?;
    let (name, value) = raw
        .pop_first()
        .ok_or_else(|| UiApiError::bad_form("the preview needs one file part"))?;
    if !matches!(value, RawInput::File(_)) {
        return Err(UiApiError::bad_form(format!("`{name}` was sent without a file")));
    }
    let preview = runner.preview(&name, value)?;
    Ok(axum::Json(preview).into_response())
}

/// `POST /ui/jobs`: the form of `/ui/submit`, submitted as a job: `{"job": id}`; 501 without jobs.
async fn submit_job(
    State(runner): State<Arc<UiRunner>>,
    headers: HeaderMap,
    form: Multipart,
) -> Result<Response, UiApiError> {
    let raw = read_form(form, runner.input_names()?, runner.body_limit()).await?;
    let id = runner.submit_job(raw, runner.owner(&headers)).await?;
    Ok(axum::Json(serde_json::json!({ "job": id })).into_response())
}

/// `GET /ui/jobs/{id}/events`: the job's events after the `Last-Event-ID` header's, as SSE.
async fn job_events(
    State(runner): State<Arc<UiRunner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, UiApiError> {
    let job = runner.job(&id, runner.owner(&headers)).await?;
    runner.job_caller()?;
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let events = Sse::new(follow(Arc::clone(&runner), id, job, after)).keep_alive(KeepAlive::default());
    let mut response = events.into_response();
    // Proxies that buffer responses (nginx) would hold the events back.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// `POST /ui/jobs/{id}/cancel`: asks the service to cancel the job; its stream then ends with an
/// `error` of type `canceled`. `202 {"job": id}`.
async fn cancel_job(
    State(runner): State<Arc<UiRunner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, UiApiError> {
    runner.job(&id, runner.owner(&headers)).await?;
    let names = runner.input_names()?;
    runner
        .job_caller()?
        .cancel(&id)
        .await
        .map_err(|err| UiApiError::from_call(err, names))?;
    Ok((StatusCode::ACCEPTED, axum::Json(serde_json::json!({ "job": id }))).into_response())
}

/// `GET /ui/jobs/{id}/request`: the JSON request of a job the page submitted, as stored with the job.
async fn job_request(
    State(runner): State<Arc<UiRunner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, UiApiError> {
    let request = runner.job_request(&id, runner.owner(&headers)).await?;
    Ok(axum::Json(request).into_response())
}
