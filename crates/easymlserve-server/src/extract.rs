//! `ValidJson`: our own JSON body extractor. It enforces the content type (415) and the body limit
//! before reading everything (413), and turns syntax errors into 400 and schema errors into 422, all in
//! the `{"error", "error_type"}` shape.

use axum::extract::{FromRequest, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use bytes::Bytes;
use easymlserve_core::{Service, parse_request};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::ApiError;
use crate::state::AppState;

/// A request body that is JSON, within the limit, and valid against the service's request schema.
pub struct ValidJson<T>(pub T);

impl<S: Service> FromRequest<AppState<S>> for ValidJson<S::Request> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState<S>) -> Result<Self, ApiError> {
        let bytes = read_json_body(request, state.body_limit).await?;
        Ok(Self(parse_request(&state.validator, &bytes)?))
    }
}

/// Reads a JSON body of at most `limit` bytes, checking the declared type and length first.
pub async fn read_json_body(request: Request, limit: usize) -> Result<Bytes, ApiError> {
    let headers = request.headers();
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !is_json(content_type) {
        let got = if content_type.is_empty() {
            "none".to_owned()
        } else {
            format!("`{content_type}`")
        };
        return Err(ApiError::UnsupportedMediaType(got));
    }
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    match Limited::new(request.into_body(), limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => Err(ApiError::PayloadTooLarge { limit }),
        Err(err) => match crate::deadline::is_deadline(&*err) {
            Some(limit) => Err(ApiError::RequestTimeout(limit)),
            None => Err(ApiError::BodyRead(err.to_string())),
        },
    }
}

fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    let suffix = subtype.len().checked_sub(5).and_then(|at| subtype.get(at..));
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || suffix.is_some_and(|s| s.eq_ignore_ascii_case("+json")))
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn accepts_json_media_types_only() {
        assert!(is_json("application/json"));
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("Application/JSON"));
        assert!(is_json("application/problem+json"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json(""));
    }
}
