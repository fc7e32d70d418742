//! Prometheus metrics of one server under the `easymlserve_` prefix, kept by `prometheus-client` and
//! rendered as OpenMetrics text at `GET /metrics`. Per server, not global, so several servers in one
//! process (tests, a co-hosted UI) keep separate books.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use axum::http::Method;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// The `Content-Type` of [`Metrics::render`]'s text: the OpenMetrics text format.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds, in seconds, of the latency histogram buckets.
const BUCKETS: [f64; 15] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Upper bounds of the batch size histogram buckets.
const BATCH_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

fn latency_histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// Gauges read when the metrics are rendered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    pub ready: bool,
    pub workers: usize,
    pub queue_capacity: usize,
}

/// The `method` label: the methods of RFC 9110 and PATCH by name, every other token as `other`, so a
/// client cannot add label values (and lines to `/metrics`) by inventing methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum MethodLabel {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Connect,
    Options,
    Trace,
    Patch,
    Other,
}

impl MethodLabel {
    fn of(method: &Method) -> Self {
        match method.as_str() {
            "GET" => Self::Get,
            "HEAD" => Self::Head,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "DELETE" => Self::Delete,
            "CONNECT" => Self::Connect,
            "OPTIONS" => Self::Options,
            "TRACE" => Self::Trace,
            "PATCH" => Self::Patch,
            _ => Self::Other,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
            Self::Connect => "CONNECT",
            Self::Options => "OPTIONS",
            Self::Trace => "TRACE",
            Self::Patch => "PATCH",
            Self::Other => "other",
        }
    }
}

impl EncodeLabelValue for MethodLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// Labels of `easymlserve_requests_total`, in the order they are rendered.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: MethodLabel,
    route: Arc<str>,
    status: u16,
}

/// Label of `easymlserve_request_duration_seconds`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabel {
    route: Arc<str>,
}

/// Label of `easymlserve_model_failures_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

/// Label of `easymlserve_jobs_total`: `succeeded`, `failed` or `canceled`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// One route's series: shared handles on the entries of the registered families, so a request seen
/// before is one map lookup and a short scan, with nothing allocated.
#[derive(Debug)]
struct RouteBook {
    /// The route label, shared by all of the route's series.
    route: Arc<str>,
    latency: Histogram,
    /// One counter per method and status seen on this route.
    counts: Vec<(MethodLabel, u16, Counter)>,
}

impl RouteBook {
    fn counter(&self, method: MethodLabel, status: u16) -> Option<&Counter> {
        self.counts
            .iter()
            .find(|(m, s, _)| *m == method && *s == status)
            .map(|(_, _, counter)| counter)
    }
}

/// The metrics of one server. Recording a request whose method, route and status were seen before
/// allocates nothing: methods are an enum, statuses a number, and each route's series are looked up
/// by the route text once per request.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// The series of the matched routes seen so far (a fixed set: the router's routes and `unmatched`).
    routes: RwLock<HashMap<Arc<str>, RouteBook>>,
    requests: Family<RequestLabels, Counter>,
    request_duration: Family<RouteLabel, Histogram, fn() -> Histogram>,
    model_duration: Histogram,
    queue_wait: Histogram,
    batch_size: Histogram,
    model_failures: Family<KindLabel, Counter>,
    jobs: Family<OutcomeLabel, Counter>,
    queue_depth: Gauge,
    in_flight: Gauge,
    busy_workers: Gauge,
    abandoned_busy_workers: Gauge,
    workers: Gauge,
    queue_capacity: Gauge,
    ready: Gauge,
}

impl Default for Metrics {
    /// Declares every metric at start-up, so a scrape shows all of them from the first request on.
    fn default() -> Self {
        let metrics = Self {
            registry: Registry::with_prefix("easymlserve"),
            routes: RwLock::default(),
            requests: Family::default(),
            request_duration: Family::new_with_constructor(latency_histogram),
            model_duration: latency_histogram(),
            queue_wait: latency_histogram(),
            batch_size: Histogram::new(BATCH_BUCKETS),
            model_failures: Family::default(),
            jobs: Family::default(),
            queue_depth: Gauge::default(),
            in_flight: Gauge::default(),
            busy_workers: Gauge::default(),
            abandoned_busy_workers: Gauge::default(),
            workers: Gauge::default(),
            queue_capacity: Gauge::default(),
            ready: Gauge::default(),
        };
        metrics.register()
    }
}

impl Metrics {
    /// Registers every metric (shared handles: the registry and `self` see the same values). The
    /// encoder appends `_total` to counters, the unit to names registered with one, and a full stop to
    /// the help texts.
    fn register(mut self) -> Self {
        let r = &mut self.registry;
        r.register(
            "requests",
            "HTTP requests by method, route and status",
            self.requests.clone(),
        );
        r.register_with_unit(
            "request_duration",
            "HTTP request latency in seconds, by route",
            Unit::Seconds,
            self.request_duration.clone(),
        );
        r.register_with_unit(
            "model_duration",
            "Time spent inside the model's process (or process_batch) calls, in seconds",
            Unit::Seconds,
            self.model_duration.clone(),
        );
        r.register_with_unit(
            "queue_wait",
            "Time requests waited in the queue for a worker, in seconds",
            Unit::Seconds,
            self.queue_wait.clone(),
        );
        r.register(
            "batch_size",
            "Requests answered by one process_batch call (only with dynamic batching on)",
            self.batch_size.clone(),
        );
        r.register(
            "model_failures",
            "Requests the model did not answer normally, by kind",
            self.model_failures.clone(),
        );
        r.register(
            "jobs",
            "Jobs that ended, by outcome (succeeded, failed, canceled)",
            self.jobs.clone(),
        );
        let gauges = [
            ("queue_depth", "Requests waiting for a worker", &self.queue_depth),
            ("in_flight_requests", "HTTP requests being handled", &self.in_flight),
            ("busy_workers", "Workers running the model now", &self.busy_workers),
            (
                "abandoned_busy_workers",
                "Workers still running a request whose caller timed out or went away: a model that \
                 ignores cancellation shows here",
                &self.abandoned_busy_workers,
            ),
            ("workers", "Model worker threads", &self.workers),
            (
                "queue_capacity",
                "Requests the queue holds before 503",
                &self.queue_capacity,
            ),
            ("ready", "1 when the model is loaded and serving", &self.ready),
        ];
        for (name, help, gauge) in gauges {
            r.register(name, help, gauge.clone());
        }
        self
    }

    /// Records one finished HTTP request.
    pub(crate) fn record_request(&self, method: &Method, route: &str, status: u16, elapsed: Duration) {
        let method = MethodLabel::of(method);
        let seconds = elapsed.as_secs_f64();
        {
            let routes = self.routes.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(book) = routes.get(route) {
                if let Some(counter) = book.counter(method, status) {
                    book.latency.observe(seconds);
                    counter.inc();
                    return;
                }
            }
        }
        // First request of this route, method and status.
        let mut routes = self.routes.write().unwrap_or_else(PoisonError::into_inner);
        if !routes.contains_key(route) {
            let route: Arc<str> = Arc::from(route);
            let latency = self.request_duration.get_or_create_owned(&RouteLabel {
                route: Arc::clone(&route),
            });
            let book = RouteBook {
                route: Arc::clone(&route),
                latency,
                counts: Vec::new(),
            };
            routes.insert(route, book);
        }
        let Some(book) = routes.get_mut(route) else {
            return;
        };
        book.latency.observe(seconds);
        if let Some(counter) = book.counter(method, status) {
            counter.inc();
            return;
        }
        let counter = self.requests.get_or_create_owned(&RequestLabels {
            method,
            route: Arc::clone(&book.route),
            status,
        });
        counter.inc();
        book.counts.push((method, status, counter));
    }

    /// Records time spent inside `process`.
    pub(crate) fn record_model_time(&self, elapsed: Duration) {
        self.model_duration.observe(elapsed.as_secs_f64());
    }

    /// Records time a request waited in the queue.
    pub(crate) fn record_queue_time(&self, elapsed: Duration) {
        self.queue_wait.observe(elapsed.as_secs_f64());
    }

    /// Records how many requests one `process_batch` call answered.
    pub(crate) fn record_batch_size(&self, size: usize) {
        self.batch_size.observe(size as f64);
    }

    /// Counts a request the model did not answer normally (`error`, `panic`, `timeout`, `abandoned`).
    pub(crate) fn record_model_failure(&self, kind: &'static str) {
        self.model_failures.get_or_create(&KindLabel { kind }).inc();
    }

    /// Counts a job that ended with `outcome` (`succeeded`, `failed`, `canceled`).
    pub(crate) fn record_job(&self, outcome: &'static str) {
        self.jobs.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// Requests waiting for a worker.
    pub(crate) fn queue_depth(&self) -> &Gauge {
        &self.queue_depth
    }

    /// HTTP requests being handled.
    pub(crate) fn in_flight(&self) -> &Gauge {
        &self.in_flight
    }

    /// Workers running the model now.
    pub(crate) fn busy_workers(&self) -> &Gauge {
        &self.busy_workers
    }

    /// Workers still running a request nobody waits for any more.
    pub(crate) fn abandoned_busy_workers(&self) -> &Gauge {
        &self.abandoned_busy_workers
    }

    /// The OpenMetrics text exposition (serve it as [`CONTENT_TYPE`]), with the snapshot's gauges.
    pub(crate) fn render(&self, snapshot: Snapshot) -> String {
        self.ready.set(i64::from(snapshot.ready));
        self.workers.set(i64::try_from(snapshot.workers).unwrap_or(i64::MAX));
        self.queue_capacity
            .set(i64::try_from(snapshot.queue_capacity).unwrap_or(i64::MAX));
        let mut out = String::with_capacity(8192);
        if let Err(error) = encode(&mut out, &self.registry) {
            // Writing to a String cannot fail and every histogram has buckets: this is a bug.
            tracing::error!(%error, "could not encode the metrics");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAPSHOT: Snapshot = Snapshot {
        ready: true,
        workers: 3,
        queue_capacity: 64,
    };

    /// The sample lines of `text` whose name and labels start with `prefix`.
    fn samples<'t>(text: &'t str, prefix: &'t str) -> impl Iterator<Item = &'t str> {
        text.lines().filter(move |line| line.starts_with(prefix))
    }

    #[test]
    fn every_metric_is_declared_under_its_dashboard_name() {
        let metrics = Metrics::default();
        metrics.record_request(&Method::GET, "/health/live", 200, Duration::from_millis(1));
        metrics.record_model_failure("panic");
        let text = metrics.render(SNAPSHOT);
        let families = [
            ("easymlserve_requests", "counter"),
            ("easymlserve_request_duration_seconds", "histogram"),
            ("easymlserve_model_duration_seconds", "histogram"),
            ("easymlserve_queue_wait_seconds", "histogram"),
            ("easymlserve_batch_size", "histogram"),
            ("easymlserve_model_failures", "counter"),
            ("easymlserve_queue_depth", "gauge"),
            ("easymlserve_in_flight_requests", "gauge"),
            ("easymlserve_busy_workers", "gauge"),
            ("easymlserve_abandoned_busy_workers", "gauge"),
            ("easymlserve_workers", "gauge"),
            ("easymlserve_queue_capacity", "gauge"),
            ("easymlserve_ready", "gauge"),
        ];
        for (name, kind) in families {
            assert!(text.contains(&format!("\n# TYPE {name} {kind}\n")), "{name}: {text}");
        }
        for line in [
            "easymlserve_requests_total{method=\"GET\",route=\"/health/live\",status=\"200\"} 1",
            "easymlserve_request_duration_seconds_count{route=\"/health/live\"} 1",
            "easymlserve_model_duration_seconds_count 0",
            "easymlserve_queue_wait_seconds_count 0",
            "easymlserve_batch_size_count 0",
            "easymlserve_model_failures_total{kind=\"panic\"} 1",
            "easymlserve_queue_depth 0",
            "easymlserve_in_flight_requests 0",
            "easymlserve_busy_workers 0",
            "easymlserve_abandoned_busy_workers 0",
            "easymlserve_workers 3",
            "easymlserve_queue_capacity 64",
            "easymlserve_ready 1",
        ] {
            assert!(text.contains(&format!("\n{line}\n")), "{line}: {text}");
        }
        assert!(
            text.contains("# UNIT easymlserve_queue_wait_seconds seconds\n"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(!text.contains("..\n"), "the encoder adds the full stop: {text}");
    }

    #[test]
    fn histograms_keep_their_buckets_and_are_cumulative() {
        let metrics = Metrics::default();
        for seconds in [0.0001, 0.003, 0.003, 100.0] {
            metrics.record_model_time(Duration::from_secs_f64(seconds));
        }
        metrics.record_batch_size(3);
        let text = metrics.render(SNAPSHOT);
        let name = "easymlserve_model_duration_seconds_bucket";
        let buckets: Vec<_> = samples(&text, name).collect();
        assert_eq!(buckets.len(), BUCKETS.len() + 1, "{text}");
        for line in [
            "{le=\"0.0005\"} 1",
            "{le=\"0.0025\"} 1",
            "{le=\"0.005\"} 3",
            "{le=\"30.0\"} 3",
            "{le=\"+Inf\"} 4",
        ] {
            assert!(buckets.contains(&format!("{name}{line}").as_str()), "{line}: {text}");
        }
        assert!(
            text.contains("\neasymlserve_model_duration_seconds_count 4\n"),
            "{text}"
        );
        let batch: Vec<_> = samples(&text, "easymlserve_batch_size_bucket").collect();
        assert_eq!(batch.len(), BATCH_BUCKETS.len() + 1, "{text}");
        assert!(batch.contains(&"easymlserve_batch_size_bucket{le=\"2.0\"} 0"), "{text}");
        assert!(batch.contains(&"easymlserve_batch_size_bucket{le=\"4.0\"} 1"), "{text}");
    }

    #[test]
    fn unknown_methods_share_one_label() {
        let metrics = Metrics::default();
        for token in ["FOO", "get", "BREW", "PROPFIND"] {
            let method = Method::from_bytes(token.as_bytes()).expect("a valid token");
            metrics.record_request(&method, "/process", 405, Duration::ZERO);
        }
        for method in [Method::GET, Method::PATCH, Method::OPTIONS] {
            metrics.record_request(&method, "/process", 405, Duration::ZERO);
        }
        let text = metrics.render(SNAPSHOT);
        let counts: Vec<_> = samples(&text, "easymlserve_requests_total").collect();
        assert_eq!(counts.len(), 4, "{text}");
        assert!(
            counts.contains(&"easymlserve_requests_total{method=\"other\",route=\"/process\",status=\"405\"} 4"),
            "{text}"
        );
        for known in ["GET", "PATCH", "OPTIONS"] {
            let line = format!("easymlserve_requests_total{{method=\"{known}\",route=\"/process\",status=\"405\"}} 1");
            assert!(counts.contains(&line.as_str()), "{text}");
        }
    }

    #[test]
    fn a_route_is_kept_once_with_one_counter_per_method_and_status() {
        let metrics = Metrics::default();
        for status in [200, 200, 422, 200] {
            metrics.record_request(&Method::POST, &String::from("/process"), status, Duration::ZERO);
        }
        metrics.record_request(&Method::GET, "/process", 405, Duration::ZERO);
        {
            let routes = metrics.routes.read().unwrap_or_else(PoisonError::into_inner);
            assert_eq!(routes.len(), 1);
            assert_eq!(routes["/process"].counts.len(), 3);
        }
        let text = metrics.render(SNAPSHOT);
        for line in [
            "easymlserve_requests_total{method=\"POST\",route=\"/process\",status=\"200\"} 3",
            "easymlserve_requests_total{method=\"POST\",route=\"/process\",status=\"422\"} 1",
            "easymlserve_requests_total{method=\"GET\",route=\"/process\",status=\"405\"} 1",
            "easymlserve_request_duration_seconds_count{route=\"/process\"} 5",
        ] {
            assert!(text.contains(&format!("\n{line}\n")), "{line}: {text}");
        }
    }

    #[test]
    fn servers_keep_separate_books() {
        let (a, b) = (Metrics::default(), Metrics::default());
        a.in_flight().inc();
        a.record_model_failure("timeout");
        let text = b.render(SNAPSHOT);
        assert!(text.contains("\neasymlserve_in_flight_requests 0\n"), "{text}");
        assert_eq!(samples(&text, "easymlserve_model_failures_total").count(), 0, "{text}");
    }
}
