//! Prometheus metrics of one server: counters, gauges and histograms under the `easymlserve_` prefix,
//! rendered as text at `GET /metrics`. Per server, not global, so several servers in one process
//! (tests, a co-hosted UI) keep separate books.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Upper bounds, in seconds, of the latency histogram buckets.
const BUCKETS: [f64; 15] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Upper bounds of the batch size histogram buckets.
const BATCH_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Default for Histogram {
    /// A latency histogram, in seconds.
    fn default() -> Self {
        Self::with_bounds(&BUCKETS)
    }
}

impl Histogram {
    fn with_bounds(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, value: f64) {
        if let Some(i) = self.bounds.iter().position(|b| value <= *b) {
            self.counts[i] += 1;
        }
        self.sum += value;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0;
        for (bound, n) in self.bounds.iter().zip(&self.counts) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}", self.count);
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

/// Gauges read when the metrics are rendered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    pub ready: bool,
    pub workers: usize,
    pub queue_capacity: usize,
}

/// Requests of one route: counts by method and status, and their latency. A short list rather than a
/// map keyed by owned strings, so recording a request that was seen before allocates nothing.
#[derive(Debug, Default)]
struct RouteStats {
    counts: Vec<(String, u16, u64)>,
    latency: Histogram,
}

/// The metrics of one server.
#[derive(Debug)]
pub struct Metrics {
    routes: Mutex<BTreeMap<String, RouteStats>>,
    model_time: Mutex<Histogram>,
    queue_time: Mutex<Histogram>,
    batch_size: Mutex<Histogram>,
    model_failures: Mutex<BTreeMap<&'static str, u64>>,
    queue_depth: AtomicI64,
    in_flight: AtomicI64,
    busy_workers: AtomicI64,
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            routes: Mutex::default(),
            model_time: Mutex::default(),
            queue_time: Mutex::default(),
            batch_size: Mutex::new(Histogram::with_bounds(&BATCH_BUCKETS)),
            model_failures: Mutex::default(),
            queue_depth: AtomicI64::default(),
            in_flight: AtomicI64::default(),
            busy_workers: AtomicI64::default(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Metrics {
    /// Records one finished HTTP request.
    pub(crate) fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let mut routes = lock(&self.routes);
        if !routes.contains_key(route) {
            routes.insert(route.to_owned(), RouteStats::default());
        }
        let Some(stats) = routes.get_mut(route) else {
            return;
        };
        match stats.counts.iter_mut().find(|(m, s, _)| m == method && *s == status) {
            Some((_, _, n)) => *n += 1,
            None => stats.counts.push((method.to_owned(), status, 1)),
        }
        stats.latency.observe(elapsed.as_secs_f64());
    }

    /// Records time spent inside `process`.
    pub(crate) fn record_model_time(&self, elapsed: Duration) {
        lock(&self.model_time).observe(elapsed.as_secs_f64());
    }

    /// Records time a request waited in the queue.
    pub(crate) fn record_queue_time(&self, elapsed: Duration) {
        lock(&self.queue_time).observe(elapsed.as_secs_f64());
    }

    /// Records how many requests one `process_batch` call answered.
    pub(crate) fn record_batch_size(&self, size: usize) {
        lock(&self.batch_size).observe(size as f64);
    }

    /// Counts a request the model did not answer normally (`error`, `panic`, `timeout`, `abandoned`).
    pub(crate) fn record_model_failure(&self, kind: &'static str) {
        *lock(&self.model_failures).entry(kind).or_default() += 1;
    }

    pub(crate) fn queue_depth(&self) -> &AtomicI64 {
        &self.queue_depth
    }

    pub(crate) fn in_flight(&self) -> &AtomicI64 {
        &self.in_flight
    }

    pub(crate) fn busy_workers(&self) -> &AtomicI64 {
        &self.busy_workers
    }

    /// The Prometheus text exposition.
    pub(crate) fn render(&self, snapshot: Snapshot) -> String {
        let mut out = String::with_capacity(4096);
        header(
            &mut out,
            "easymlserve_requests_total",
            "counter",
            "HTTP requests by method, route and status.",
        );
        let routes = lock(&self.routes);
        let mut counts: Vec<_> = routes
            .iter()
            .flat_map(|(route, stats)| stats.counts.iter().map(move |(m, s, n)| (m, route, s, n)))
            .collect();
        counts.sort_unstable();
        for (method, route, status, n) in counts {
            let _ = writeln!(
                out,
                "easymlserve_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        let name = "easymlserve_request_duration_seconds";
        header(
            &mut out,
            name,
            "histogram",
            "HTTP request latency in seconds, by route.",
        );
        for (route, stats) in routes.iter() {
            stats.latency.render(&mut out, name, &format!("route=\"{route}\""));
        }
        drop(routes);
        let name = "easymlserve_model_duration_seconds";
        header(
            &mut out,
            name,
            "histogram",
            "Time spent inside the model's process (or process_batch) calls, in seconds.",
        );
        lock(&self.model_time).render(&mut out, name, "");
        let name = "easymlserve_queue_wait_seconds";
        header(
            &mut out,
            name,
            "histogram",
            "Time requests waited in the queue for a worker, in seconds.",
        );
        lock(&self.queue_time).render(&mut out, name, "");
        let name = "easymlserve_batch_size";
        header(
            &mut out,
            name,
            "histogram",
            "Requests answered by one process_batch call (only with dynamic batching on).",
        );
        lock(&self.batch_size).render(&mut out, name, "");
        let name = "easymlserve_model_failures_total";
        header(
            &mut out,
            name,
            "counter",
            "Requests the model did not answer normally, by kind.",
        );
        for (kind, n) in lock(&self.model_failures).iter() {
            let _ = writeln!(out, "{name}{{kind=\"{kind}\"}} {n}");
        }
        let gauges = [
            (
                "easymlserve_queue_depth",
                "Requests waiting for a worker.",
                self.queue_depth.load(Ordering::Relaxed),
            ),
            (
                "easymlserve_in_flight_requests",
                "HTTP requests being handled.",
                self.in_flight.load(Ordering::Relaxed),
            ),
            (
                "easymlserve_busy_workers",
                "Workers running the model now.",
                self.busy_workers.load(Ordering::Relaxed),
            ),
            ("easymlserve_workers", "Model worker threads.", snapshot.workers as i64),
            (
                "easymlserve_queue_capacity",
                "Requests the queue holds before 503.",
                snapshot.queue_capacity as i64,
            ),
            (
                "easymlserve_ready",
                "1 when the model is loaded and serving.",
                i64::from(snapshot.ready),
            ),
        ];
        for (name, help, value) in gauges {
            header(&mut out, name, "gauge", help);
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut h = Histogram::default();
        for s in [0.0001, 0.003, 0.003, 100.0] {
            h.observe(s);
        }
        let mut out = String::new();
        h.render(&mut out, "x", "");
        assert!(out.contains("x_bucket{le=\"0.0005\"} 1\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"0.005\"} 3\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"30\"} 3\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"+Inf\"} 4\n"), "{out}");
        assert!(out.contains("x_count 4\n"), "{out}");
    }
}
