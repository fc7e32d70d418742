//! The outermost middleware: counts, times and logs every request, and keeps the in-flight gauge right
//! even when a client goes away mid-request (hyper then drops the request's future).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::metrics::gauge::Gauge;

use crate::metrics::Metrics;

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

/// Counts, times and logs every request: one log line per request with method, path, status, duration.
/// A request whose client disconnects before the answer is neither counted nor logged, but leaves the
/// in-flight gauge.
pub(crate) async fn observe(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // The path is copied only when the access log is on; the matched route is shared, not copied.
    let path =
        tracing::enabled!(target: "easymlserve::access", tracing::Level::INFO).then(|| request.uri().path().to_owned());
    let route = request.extensions().get::<MatchedPath>().cloned();
    let in_flight = Counted::new(metrics.in_flight());
    let response = next.run(request).await;
    drop(in_flight);
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    metrics.record_request(&method, route, status, elapsed);
    if let Some(path) = path {
        tracing::info!(target: "easymlserve::access", %method, %path, status, duration_ms = elapsed.as_secs_f64() * 1000.0, "request");
    }
    response
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
}
