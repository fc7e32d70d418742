//! Reading JSON request bodies: the content type is enforced (415) and the body limit checked before
//! reading everything (413), in the `{"error", "error_type"}` shape.

use axum::extract::Request;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::ApiError;

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
    read_body(request, limit).await
}

/// Reads a body of at most `limit` bytes whatever its declared type (the inference protocol's clients
/// send none), refusing a declared length over the limit before reading.
pub(crate) async fn read_body(request: Request, limit: usize) -> Result<Bytes, ApiError> {
    let declared = request
        .headers()
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
