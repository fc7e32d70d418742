//! The handlers of the REST contract. Each reads what it needs from the shared state and maps the
//! engine's errors to HTTP through `ApiError`; none knows which kind of model is served.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use easymlserve_core::RequestId;
use serde_json::json;

use crate::engine::Readiness;
use crate::error::ApiError;
use crate::extract::read_json_body;
use crate::jobs::{self, routes::Mode};
use crate::metrics::Snapshot;
use crate::state::AppState;

/// Longest `X-Request-Id` taken from a caller; longer ones are replaced by a generated id.
const MAX_REQUEST_ID: usize = 128;

/// The caller's `X-Request-Id`, when it is short printable ASCII.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<RequestId> {
    let value = headers.get("x-request-id")?.to_str().ok()?;
    let usable = !value.is_empty() && value.len() <= MAX_REQUEST_ID && value.bytes().all(|b| b.is_ascii_graphic());
    usable.then(|| RequestId::Given(value.into()))
}

fn json_bytes(body: Bytes) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        body,
    )
        .into_response()
}

/// `POST /process`: the response JSON, or, asked for with `Accept: text/event-stream` or
/// `Prefer: respond-async`, a stream of events or a job. The body is checked the same way first.
pub(crate) async fn process(State(state): State<AppState>, request: Request) -> Result<Response, ApiError> {
    let mode = jobs::routes::mode(request.headers());
    let headers = (mode != Mode::Plain).then(|| request.headers().clone());
    let id = request_id(request.headers());
    let bytes = read_json_body(request, state.body_limit).await?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let valid = state.engine.validate(value)?;
    match (mode, headers) {
        (Mode::Async, Some(headers)) => jobs::routes::submit_async(&state, valid, &bytes, &headers).await,
        (Mode::Stream, Some(headers)) => jobs::routes::submit_stream(&state, valid, &headers),
        _ => Ok(json_bytes(state.engine.call(valid, id).await?)),
    }
}

/// The documents exist once the model is loaded; before that, 503 as `/process` answers.
fn loaded_docs(state: &AppState) -> Result<&crate::state::Docs, ApiError> {
    state.docs.get().ok_or_else(|| match state.engine.readiness() {
        Readiness::Failed(_) => ApiError::NotReady("the model failed to load; see /health/ready".to_owned()),
        Readiness::Stopping => ApiError::ShuttingDown,
        Readiness::Loading | Readiness::Ready => ApiError::NotReady("the model is still loading".to_owned()),
    })
}

pub(crate) async fn spec(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(json_bytes(loaded_docs(&state)?.spec_json.clone()))
}

pub(crate) async fn openapi(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(json_bytes(loaded_docs(&state)?.openapi.clone()))
}

pub(crate) async fn live() -> Response {
    axum::Json(json!({"status": "live"})).into_response()
}

pub(crate) async fn ready(State(state): State<AppState>) -> Response {
    let (status, error) = match state.engine.readiness() {
        _ if state.is_draining() => ("draining", "the server is shutting down: draining".to_owned()),
        Readiness::Ready => return axum::Json(json!({"status": "ready"})).into_response(),
        Readiness::Loading => ("loading", "the model is still loading".to_owned()),
        Readiness::Failed(reason) => ("failed", format!("the model failed to load: {reason}")),
        Readiness::Stopping => ("stopping", "the server is shutting down".to_owned()),
    };
    let body = json!({"status": status, "error": error, "error_type": "not_ready"});
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, HeaderValue::from_static("5"))],
        axum::Json(body),
    )
        .into_response()
}

pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let snapshot = Snapshot {
        ready: state.engine.readiness() == Readiness::Ready,
        workers: state.engine.workers(),
        queue_capacity: state.engine.queue_capacity(),
    };
    let text = state.metrics.render(snapshot);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
        )],
        text,
    )
        .into_response()
}

pub(crate) async fn not_found(request: Request) -> ApiError {
    ApiError::NotFound {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
    }
}

pub(crate) async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::MethodNotAllowed {
        method: request.method().to_string(),
        path: request.uri().path().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_taken_only_when_short_and_printable() {
        let mut headers = HeaderMap::new();
        assert_eq!(request_id(&headers), None);
        headers.insert("x-request-id", HeaderValue::from_static("abc-123"));
        assert_eq!(request_id(&headers), Some(RequestId::Given("abc-123".into())));
        headers.insert("x-request-id", HeaderValue::from_static("has space"));
        assert_eq!(request_id(&headers), None);
        let long = "x".repeat(MAX_REQUEST_ID + 1);
        headers.insert("x-request-id", HeaderValue::from_str(&long).expect("ascii"));
        assert_eq!(request_id(&headers), None);
    }
}
