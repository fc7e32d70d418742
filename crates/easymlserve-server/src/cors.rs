//! Cross-origin requests: off unless the configuration lists the origins allowed to call the API
//! from a browser. With no list, no `Access-Control-*` header is ever sent, so browsers keep pages of
//! other sites from reading answers; with a list, only those exact origins are allowed.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The origins allowed to call the API from a browser, such as `https://lab.example.org`.
#[derive(Debug, Clone, Default)]
pub struct CorsOrigins(Arc<Vec<String>>);

impl CorsOrigins {
    /// Allows exactly these origins (scheme, host and port; no path). Trailing slashes are ignored.
    pub fn new(origins: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let list = origins
            .into_iter()
            .map(|o| o.into().trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        Self(Arc::new(list))
    }

    /// Parses a comma-separated list.
    pub fn parse_list(list: &str) -> Self {
        Self::new(list.split(','))
    }

    /// Whether any origin is allowed.
    pub fn is_enabled(&self) -> bool {
        !self.0.is_empty()
    }

    /// The allowed origins.
    pub fn origins(&self) -> &[String] {
        &self.0
    }

    fn allowed<'h>(&self, headers: &'h HeaderMap) -> Option<&'h HeaderValue> {
        let origin = headers.get(header::ORIGIN)?;
        let text = origin.to_str().ok()?;
        self.0.iter().any(|o| o == text).then_some(origin)
    }
}

/// Answers preflights from allowed origins and marks their answers readable; does nothing else.
pub(crate) async fn cors(State(origins): State<CorsOrigins>, request: Request, next: Next) -> Response {
    let Some(origin) = origins.allowed(request.headers()).cloned() else {
        return next.run(request).await;
    };
    let preflight =
        request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        let mut answer = StatusCode::NO_CONTENT.into_response();
        let headers = answer.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type, x-api-key"),
        );
        headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        answer
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    response
}
