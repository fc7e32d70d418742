//! The outermost middleware: gives every request its id, counts, times and logs it, and keeps the
//! in-flight gauge right even when a client goes away mid-request (hyper then drops the request's
//! future).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::metrics::gauge::Gauge;
use tracing::Instrument;

use easymlserve_core::RequestId;

use crate::handlers::request_id;
use crate::ids::random_hex;
use crate::metrics::Metrics;

/// The header that carries a request's id in and out.
pub(crate) const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    /// The id of the request the current task answers.
    static CURRENT: RequestId;
}

/// The id of the request the current task answers, for engine calls made without one (the web GUI's
/// in-process calls), so the model sees the id the access line and the response carry.
pub(crate) fn current_request_id() -> Option<RequestId> {
    CURRENT.try_with(RequestId::clone).ok()
}

/// One request counted in a gauge for as long as it lives, whether it finishes or is dropped.
struct Counted<'g>(&'g Gauge);

impl<'g> Counted<'g> {
    fn new(gauge: &'g Gauge) -> Self {
        gauge.inc();
        Self(gauge)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Gives the request its id, counts, times and logs it: one access line per request with its id,
/// method, matched route, path, status and duration, and a `request` span around it so the other
/// lines it causes carry the id too. A request whose client disconnects before the answer is neither
/// counted nor logged, but leaves the in-flight gauge.
///
/// The id is the caller's `X-Request-Id` when it is usable ([`request_id`]), else a new one; it
/// replaces the request's header (so every handler, and the engine, sees this one id) and is set on
/// the response, whatever its status.
pub(crate) async fn observe(State(metrics): State<Arc<Metrics>>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = assign_id(request.headers_mut());
    let method = request.method().clone();
    // The path is copied only when the access log is on; the matched route is shared, not copied.
    let path =
        tracing::enabled!(target: "easymlserve::access", tracing::Level::INFO).then(|| request.uri().path().to_owned());
    let route = request.extensions().get::<MatchedPath>().cloned();
    let in_flight = Counted::new(metrics.in_flight());
    let id_text = id.to_str().unwrap_or_default();
    let span = tracing::info_span!("request", request_id = %id_text);
    let mut response = CURRENT
        .scope(RequestId::Given(id_text.into()), next.run(request))
        .instrument(span)
        .await;
    drop(in_flight);
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    metrics.record_request(&method, route, status, elapsed);
    if let Some(path) = path {
        tracing::info!(
            target: "easymlserve::access",
            request_id = %id_text,
            %method,
            route = %route,
            %path,
            status,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
    }
    response.headers_mut().insert(X_REQUEST_ID, id);
    response
}

/// The request's id: the caller's usable `X-Request-Id`, or a new random one written into `headers`
/// in place of an unusable one.
fn assign_id(headers: &mut HeaderMap) -> HeaderValue {
    let given = request_id(headers).and_then(|_| headers.get(X_REQUEST_ID).cloned());
    let id =
        given.unwrap_or_else(|| HeaderValue::from_str(&random_hex()).unwrap_or(HeaderValue::from_static("unknown")));
    // One id per request: this replaces an unusable one and drops any further `X-Request-Id` headers.
    headers.insert(X_REQUEST_ID, id.clone());
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_request_leaves_the_gauge() {
        let gauge = Gauge::default();
        let first = Counted::new(&gauge);
        let second = Counted::new(&gauge);
        assert_eq!(gauge.get(), 2);
        drop(first);
        assert_eq!(gauge.get(), 1);
        drop(second);
        assert_eq!(gauge.get(), 0);
    }

    #[tokio::test]
    async fn a_request_dropped_mid_flight_leaves_the_in_flight_gauge() {
        use axum::Router;
        use axum::body::Body;
        use axum::middleware::from_fn_with_state;
        use axum::routing::get;
        use std::future::Future;
        use std::task::{Context, Waker};
        use tower::ServiceExt;

        let metrics = Arc::new(Metrics::default());
        let app = Router::new()
            .route("/slow", get(std::future::pending::<()>))
            .route("/fast", get(|| async {}))
            .layer(from_fn_with_state(Arc::clone(&metrics), observe));
        let request = Request::builder().uri("/slow").body(Body::empty()).expect("request");
        let mut call = Box::pin(app.clone().oneshot(request));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(call.as_mut().poll(&mut cx).is_pending());
        assert_eq!(metrics.in_flight().get(), 1, "the slow request is in flight");
        drop(call);
        assert_eq!(metrics.in_flight().get(), 0, "the dropped request left");

        let request = Request::builder().uri("/fast").body(Body::empty()).expect("request");
        let answer = app.oneshot(request).await.expect("infallible");
        assert_eq!(answer.status(), 200);
        assert_eq!(metrics.in_flight().get(), 0);
        let text = metrics.render(crate::metrics::Snapshot {
            ready: true,
            workers: 1,
            queue_capacity: 1,
        });
        assert!(
            text.contains("\neasymlserve_requests_total{method=\"GET\",route=\"/fast\",status=\"200\"} 1\n"),
            "{text}"
        );
        assert!(
            !text.contains("/slow\",status"),
            "a dropped request is not counted: {text}"
        );
    }

    #[tokio::test]
    async fn every_answer_carries_the_id_the_handlers_saw() {
        use axum::Router;
        use axum::body::Body;
        use axum::middleware::from_fn_with_state;
        use axum::routing::get;
        use tower::ServiceExt;

        // The handler answers with the id it was given, so the test sees what the engine would get.
        let app =
            Router::new()
                .route(
                    "/seen",
                    get(|headers: HeaderMap| async move {
                        request_id(&headers).map(|id| id.to_string()).unwrap_or_default()
                    }),
                )
                .layer(from_fn_with_state(Arc::new(Metrics::default()), observe));
        let send = |uri: &'static str, id: Option<&str>| {
            let app = app.clone();
            let mut request = Request::builder().uri(uri);
            if let Some(id) = id {
                request = request.header("x-request-id", id);
            }
            let request = request.body(Body::empty()).expect("request");
            async move {
                let answer = app.oneshot(request).await.expect("infallible");
                let header = answer
                    .headers()
                    .get(X_REQUEST_ID)
                    .map(|v| v.to_str().expect("ascii").to_owned());
                let body = axum::body::to_bytes(answer.into_body(), 1024).await.expect("body");
                (
                    header.expect("every answer has an id"),
                    String::from_utf8(body.to_vec()).expect("utf-8"),
                )
            }
        };

        let (header, seen) = send("/seen", Some("abc-123")).await;
        assert_eq!((header.as_str(), seen.as_str()), ("abc-123", "abc-123"));

        let (header, seen) = send("/seen", None).await;
        assert_eq!(header.len(), 32, "{header}");
        assert!(header.bytes().all(|b| b.is_ascii_hexdigit()), "{header}");
        assert_eq!(seen, header);

        let long = "x".repeat(200);
        let (header, seen) = send("/seen", Some(&long)).await;
        assert_ne!(header, long);
        assert_eq!((header.len(), &seen), (32, &header));

        let (first, _) = send("/seen", None).await;
        let (second, _) = send("/seen", None).await;
        assert_ne!(first, second, "generated ids differ");

        // A route that does not exist still answers with an id.
        let (header, _) = send("/missing", Some("for-a-404")).await;
        assert_eq!(header, "for-a-404");
    }

    /// A log sink the test reads back.
    #[derive(Clone, Default)]
    struct Sink(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("sink").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn lines_logged_while_a_request_runs_carry_its_id_and_the_access_line_has_every_field() {
        use axum::Router;
        use axum::body::Body;
        use axum::middleware::from_fn_with_state;
        use axum::routing::get;
        use tower::ServiceExt;

        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let app = Router::new()
            .route(
                "/work/{n}",
                get(|| async {
                    tracing::info!("working on it");
                }),
            )
            .layer(from_fn_with_state(Arc::new(Metrics::default()), observe));
        let request = Request::builder()
            .uri("/work/7")
            .header("x-request-id", "job-42")
            .body(Body::empty())
            .expect("request");
        let answer = app.oneshot(request).await.expect("infallible");
        assert_eq!(answer.status(), 200);

        let text = String::from_utf8(sink.0.lock().expect("sink").clone()).expect("utf-8");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|line| serde_json::from_str(line).expect("every line is JSON"))
            .collect();
        let inner = lines
            .iter()
            .find(|l| l["message"] == "working on it")
            .expect("the handler's line");
        assert_eq!(inner["span"]["request_id"], "job-42", "{inner}");
        let access = lines
            .iter()
            .find(|l| l["target"] == "easymlserve::access")
            .expect("the access line");
        assert_eq!(access["request_id"], "job-42", "{access}");
        assert_eq!(access["method"], "GET");
        assert_eq!(access["route"], "/work/{n}");
        assert_eq!(access["path"], "/work/7");
        assert_eq!(access["status"], 200);
        assert!(access["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{access}");
        assert_eq!(access["level"], "INFO");
        assert!(access["timestamp"].is_string(), "{access}");
    }
}
