//! The GUI's routes: the page and its embedded assets (open), and the form endpoints that run the
//! model (protected by the server's API keys when co-hosted).

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use easymlserve_core::ui::RawInput;

use crate::error::UiApiError;
use crate::form::read_form;
use crate::runner::UiRunner;

/// The page: scripts and styles only from this origin, no inline code, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
                   connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The embedded assets: name, MIME type, contents.
const ASSETS: [(&str, &str, &str); 5] = [
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
        "plot.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/plot.js"),
    ),
];

const INDEX: &str = include_str!("../assets/index.html");

/// The two groups of GUI routes.
pub struct UiRoutes {
    /// `/ui`, `/ui/`, `/ui/assets/{file}`, `/ui/spec`.
    pub public: Router,
    /// `POST /ui/submit`, `POST /ui/preview`.
    pub protected: Router,
}

/// The routes of a GUI served by `runner`.
pub fn ui_routes(runner: Arc<UiRunner>) -> UiRoutes {
    let public = Router::new()
        .route("/ui", get(|| async { Redirect::permanent("/ui/") }))
        .route("/ui/", get(index))
        .route("/ui/assets/{file}", get(asset))
        .route("/ui/spec", get(spec))
        .with_state(Arc::clone(&runner));
    // The form reader enforces the limit itself; axum's 2 MB default must not cut in first.
    let protected = Router::new()
        .route("/ui/submit", post(submit))
        .route("/ui/preview", post(preview))
        .layer(DefaultBodyLimit::max(runner.body_limit().saturating_add(64 * 1024)))
        .with_state(runner);
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
