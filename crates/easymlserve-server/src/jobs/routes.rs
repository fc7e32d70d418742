//! The job routes (`PUT`/`GET`/`DELETE /jobs/{id}`, `GET /jobs/{id}/events`, `POST /jobs/{id}/cancel`)
//! and the two ways `POST /process` leaves the plain call: `Prefer: respond-async` (a job) and
//! `Accept: text/event-stream` (a stream). Every job route reads the caller's key digest, so a job is
//! only seen with the key that submitted it.

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};

use super::{Submitted, sse};
use crate::engine::{Submit, Valid};
use crate::error::ApiError;
use crate::handlers::request_id;
use crate::state::AppState;

/// How `POST /process` is to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The response JSON.
    Plain,
    /// Server-Sent Events on the same connection.
    Stream,
    /// 202 and a job.
    Async,
}

/// Reads `Prefer: respond-async` (RFC 7240) and `Accept: text/event-stream`; a job wins when both are
/// asked for.
pub(crate) fn mode(headers: &HeaderMap) -> Mode {
    let tokens = |name: header::HeaderName| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .collect::<Vec<_>>()
    };
    if tokens(header::HeaderName::from_static("prefer"))
        .iter()
        .any(|t| t == "respond-async")
    {
        Mode::Async
    } else if tokens(header::ACCEPT).iter().any(|t| t == "text/event-stream") {
        Mode::Stream
    } else {
        Mode::Plain
    }
}

/// The job routes, all behind the API-key check.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/jobs/{id}", put(put_job).get(get_job).delete(delete_job))
        .route("/jobs/{id}/events", get(job_events))
        .route("/jobs/{id}/cancel", post(cancel_job))
}

fn location(id: &str) -> HeaderValue {
    HeaderValue::from_str(&format!("/jobs/{id}")).unwrap_or_else(|_| HeaderValue::from_static("/jobs"))
}

fn state_json(record: &super::JobRecord) -> axum::Json<easymlserve_core::JobState> {
    axum::Json(record.public())
}

/// Answers a submitted job: 202 and `Location` when new, 200 when a retried `PUT` found it.
fn accepted(submitted: &Submitted) -> Response {
    let status = if submitted.created {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    let mut response = (status, state_json(&submitted.record)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location(&submitted.record.id));
    headers.insert("preference-applied", HeaderValue::from_static("respond-async"));
    response
}

/// `POST /process` with `Prefer: respond-async`, after validation.
pub(crate) async fn submit_async(
    state: &AppState,
    valid: Valid,
    body: &[u8],
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let owner = state.keys.owner(headers);
    let submitted = state.jobs.submit(valid, body, None, owner).await?;
    Ok(accepted(&submitted))
}

/// `POST /process` with `Accept: text/event-stream`, after validation.
pub(crate) fn submit_stream(state: &AppState, valid: Valid, headers: &HeaderMap) -> Result<Response, ApiError> {
    let submit = Submit {
        id: request_id(headers),
        progress: true,
        timeout: None,
    };
    let execution = state.engine.submit(valid, submit)?;
    Ok(sse::stream_execution(execution, state.jobs.config().keep_alive))
}

async fn put_job(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Result<Response, ApiError> {
    super::check_id(&id)?;
    let headers = request.headers().clone();
    let bytes = crate::extract::read_json_body(request, state.body_limit).await?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let valid = state.engine.validate(value)?;
    let owner = state.keys.owner(&headers);
    let submitted = state.jobs.submit(valid, &bytes, Some(id), owner).await?;
    Ok(accepted(&submitted))
}

async fn get_job(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let owner = state.keys.owner(&headers);
    let record = state.jobs.state(&id, owner.as_deref()).await?;
    Ok(state_json(&record).into_response())
}

async fn cancel_job(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let owner = state.keys.owner(&headers);
    let record = state.jobs.cancel(&id, owner.as_deref()).await?;
    Ok((StatusCode::ACCEPTED, state_json(&record)).into_response())
}

async fn delete_job(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let owner = state.keys.owner(&headers);
    state.jobs.delete(&id, owner.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The event number to resume after: `Last-Event-ID`, else 0 (from the start).
fn last_event_id(headers: &HeaderMap) -> u64 {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

async fn job_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let owner = state.keys.owner(&headers);
    // Missing jobs and wrong keys get their JSON error before the stream starts.
    state.jobs.state(&id, owner.as_deref()).await?;
    Ok(sse::stream_job(
        std::sync::Arc::clone(&state.jobs),
        id,
        owner,
        last_event_id(&headers),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn prefer_and_accept_choose_the_answer() {
        assert_eq!(mode(&headers(&[])), Mode::Plain);
        assert_eq!(mode(&headers(&[("accept", "application/json")])), Mode::Plain);
        assert_eq!(mode(&headers(&[("accept", "text/event-stream")])), Mode::Stream);
        assert_eq!(
            mode(&headers(&[("accept", "application/json, text/event-stream;q=0.9")])),
            Mode::Stream
        );
        assert_eq!(mode(&headers(&[("prefer", "wait=10, respond-async")])), Mode::Async);
        assert_eq!(
            mode(&headers(&[
                ("prefer", "respond-async"),
                ("accept", "text/event-stream")
            ])),
            Mode::Async
        );
        assert_eq!(last_event_id(&headers(&[("last-event-id", " 7 ")])), 7);
        assert_eq!(last_event_id(&headers(&[("last-event-id", "x")])), 0);
    }
}
