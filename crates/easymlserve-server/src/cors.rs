//! Cross-origin requests: off unless the configuration lists the origins allowed to call the API
//! from a browser. With no list, no `Access-Control-*` header is ever sent, so browsers keep pages of
//! other sites from reading answers; with a list, only those exact origins are allowed
//! (`tower_http::cors` does the protocol).

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may cache a preflight answer.
const MAX_AGE: Duration = Duration::from_secs(600);

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

    /// The layer that answers preflights from the allowed origins and marks their answers readable;
    /// `None` when no origin is allowed, so the request path does not even look for an `Origin`.
    ///
    /// An origin is compared byte for byte, never as a pattern: a listed `*` allows nothing (it
    /// matches no origin a browser sends), as does an entry that cannot be a header value.
    pub(crate) fn layer(&self) -> Option<CorsLayer> {
        let origins: Vec<HeaderValue> = self
            .0
            .iter()
            .filter(|origin| origin.as_str() != "*")
            .filter_map(|origin| HeaderValue::from_str(origin).ok())
            .collect();
        if origins.is_empty() {
            return None;
        }
        let layer = CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            // PUT and DELETE for the job routes.
            .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-api-key"),
                HeaderName::from_static("last-event-id"),
                HeaderName::from_static("prefer"),
                HeaderName::from_static("x-request-id"),
            ])
            .max_age(MAX_AGE)
            // The answer depends on the origin only: the allowed methods and headers are fixed lists.
            .vary([header::ORIGIN]);
        Some(layer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::post;
    use tower::ServiceExt;

    fn app(origins: &CorsOrigins) -> Router {
        let app = Router::new().route("/process", post(|| async { "ok" }));
        match origins.layer() {
            Some(cors) => app.layer(cors),
            None => app,
        }
    }

    fn preflight(origin: &str) -> Request<Body> {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/process")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type, x-api-key")
            .body(Body::empty())
            .expect("request")
    }

    fn post_from(origin: &str) -> Request<Body> {
        Request::builder()
            .method(Method::POST)
            .uri("/process")
            .header(header::ORIGIN, origin)
            .body(Body::empty())
            .expect("request")
    }

    fn cors_headers(headers: &axum::http::HeaderMap) -> Vec<&str> {
        headers
            .keys()
            .map(HeaderName::as_str)
            .filter(|name| name.starts_with("access-control-"))
            .collect()
    }

    #[test]
    fn origins_are_trimmed_and_listed() {
        let origins = CorsOrigins::parse_list(" https://a.example/ ,, http://localhost:3000");
        assert_eq!(origins.origins(), ["https://a.example", "http://localhost:3000"]);
        assert!(origins.is_enabled());
        assert!(!CorsOrigins::parse_list(" , ").is_enabled());
        assert!(CorsOrigins::default().layer().is_none());
        assert!(CorsOrigins::new(["*"]).layer().is_none(), "a wildcard is no origin");
    }

    #[tokio::test]
    async fn preflight_from_a_listed_origin() {
        let app = app(&CorsOrigins::new(["https://lab.example/"]));
        let answer = app.oneshot(preflight("https://lab.example")).await.expect("infallible");
        assert!(answer.status().is_success(), "{}", answer.status());
        let headers = answer.headers();
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://lab.example");
        let methods = headers[header::ACCESS_CONTROL_ALLOW_METHODS].to_str().expect("ascii");
        for method in ["GET", "POST", "PUT", "DELETE"] {
            assert!(methods.contains(method), "{methods}");
        }
        let allowed = headers[header::ACCESS_CONTROL_ALLOW_HEADERS].to_str().expect("ascii");
        for name in [
            "authorization",
            "content-type",
            "x-api-key",
            "last-event-id",
            "prefer",
            "x-request-id",
        ] {
            assert!(allowed.contains(name), "{allowed}");
        }
        assert_eq!(headers[header::ACCESS_CONTROL_MAX_AGE], "600");
        assert_eq!(headers[header::VARY], "origin");
    }

    #[tokio::test]
    async fn answers_to_listed_origins_only_are_readable() {
        let app = app(&CorsOrigins::new(["https://lab.example"]));
        let answer = app
            .clone()
            .oneshot(post_from("https://lab.example"))
            .await
            .expect("infallible");
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(
            answer.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
            "https://lab.example"
        );
        assert_eq!(answer.headers()[header::VARY], "origin");
        for stranger in ["https://evil.example", "https://lab.example.evil.example", "null"] {
            let answer = app.clone().oneshot(post_from(stranger)).await.expect("infallible");
            assert_eq!(answer.status(), StatusCode::OK, "the API itself still answers");
            assert!(
                answer.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(),
                "{stranger}"
            );
            let answer = app.clone().oneshot(preflight(stranger)).await.expect("infallible");
            assert!(
                answer.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(),
                "{stranger}"
            );
        }
    }

    #[tokio::test]
    async fn without_origins_no_cors_header_is_sent() {
        let app = app(&CorsOrigins::default());
        let answer = app
            .clone()
            .oneshot(preflight("https://lab.example"))
            .await
            .expect("infallible");
        assert!(!answer.status().is_success(), "{}", answer.status());
        assert_eq!(cors_headers(answer.headers()), Vec::<&str>::new());
        let answer = app.oneshot(post_from("https://lab.example")).await.expect("infallible");
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(cors_headers(answer.headers()), Vec::<&str>::new());
        assert!(answer.headers().get(header::VARY).is_none());
    }
}
