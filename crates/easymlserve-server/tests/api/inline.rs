//! Services that say they are cheap (`Service::runs_inline`) are answered on the thread that read the
//! request, with the same guarantees for answers, refusals, failures and panics as the worker pool; with
//! batching on they go through the pool after all.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use easymlserve_core::{Service, ServiceError, ServiceInfo};
use easymlserve_server::{Batching, ServerConfig};
use serde_json::json;

use crate::util::{TestRequest, TestResponse, TestServer, TestService, assert_panics_fail_alone, config, error_body};

/// The knob service, inline, remembering the name of the thread of every call.
#[derive(Default)]
struct Inline {
    inner: TestService,
    threads: Arc<Mutex<Vec<String>>>,
}

impl Service for Inline {
    type Request = TestRequest;
    type Response = TestResponse;

    fn info(&self) -> ServiceInfo {
        self.inner.info()
    }

    fn process(&self, request: TestRequest) -> Result<TestResponse, ServiceError> {
        let name = std::thread::current().name().unwrap_or("unnamed").to_owned();
        self.threads.lock().unwrap().push(name);
        self.inner.process(request)
    }

    fn runs_inline(&self) -> bool {
        true
    }
}

fn on_worker_threads(threads: &[String]) -> usize {
    threads.iter().filter(|t| t.starts_with("easymlserve-worker")).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_calls_answer_each_request_without_the_pool() {
    let service = Inline::default();
    let threads = Arc::clone(&service.threads);
    let server = Arc::new(TestServer::start(service, config()).await);
    let calls: Vec<_> = (0..32)
        .map(|i| {
            let server = Arc::clone(&server);
            tokio::spawn(async move {
                let response = server.process(json!({"text": format!("r{i}-"), "repeat": 2})).await;
                (
                    response.status().as_u16(),
                    response.json::<serde_json::Value>().await.unwrap(),
                )
            })
        })
        .collect();
    for (i, call) in calls.into_iter().enumerate() {
        let (status, body) = call.await.unwrap();
        assert_eq!(
            (status, body),
            (200, json!({"text": format!("r{i}-r{i}-")})),
            "request {i}"
        );
    }
    let threads = threads.lock().unwrap().clone();
    assert_eq!(threads.len(), 32);
    assert_eq!(
        on_worker_threads(&threads),
        0,
        "inline calls went to the pool: {threads:?}"
    );
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("easymlserve_model_duration_seconds_count 32\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("easymlserve_workers 2\n"),
        "the runtime's threads are the workers: {metrics}"
    );
    assert!(metrics.contains("easymlserve_busy_workers 0\n"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inline_panic_fails_only_its_request() {
    let server = TestServer::start(Inline::default(), config()).await;
    assert_panics_fail_alone(&server, 3).await;
    for round in 0..3 {
        let (status, body) = error_body(server.process(json!({"text": "a", "mode": "refuse"})).await).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (422, Some("text")),
            "round {round}: {body}"
        );
        let (status, body) = error_body(server.process(json!({"text": "a", "mode": "fail"})).await).await;
        assert_eq!(
            (status, body["error_type"].as_str()),
            (500, Some("model_error")),
            "round {round}"
        );
        let ok = server.process(json!({"text": "ok", "repeat": 3})).await;
        assert_eq!(ok.status(), 200, "round {round}");
        assert_eq!(ok.json::<serde_json::Value>().await.unwrap(), json!({"text": "okokok"}));
    }
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("easymlserve_model_failures_total{kind=\"error\"} 3\n"),
        "{metrics}"
    );
    assert_eq!(server.get("/health/ready").await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_batching_on_an_inline_service_uses_the_pool() {
    let service = Inline::default();
    let threads = Arc::clone(&service.threads);
    let cfg = ServerConfig {
        workers: 1,
        batching: Batching {
            max_size: 4,
            max_wait: Duration::from_millis(5),
        },
        ..config()
    };
    let server = TestServer::start(service, cfg).await;
    let response = server.process(json!({"text": "b"})).await;
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"text": "b"})
    );
    let threads = threads.lock().unwrap().clone();
    assert_eq!(threads, vec!["easymlserve-worker-0".to_owned()]);
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("easymlserve_batch_size_count 1\n"), "{metrics}");
}
