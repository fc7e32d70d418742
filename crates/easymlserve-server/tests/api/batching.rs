//! Dynamic batching: requests that arrive together share one `process_batch` call, each answer goes
//! back to its own request, one failing item fails only its request, and queue timeouts still apply.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use easymlserve_core::{Service, ServiceError};
use easymlserve_server::{Batching, ServerConfig};
use serde_json::json;

use crate::util::{Mode, TestRequest, TestResponse, TestServer, TestService, config};

/// A batched model: answers `text` in capitals with the batch size it was part of, and records every
/// batch size. `broken` picks a way for a whole batch to go wrong.
#[derive(Default)]
struct Batcher {
    sizes: Arc<Mutex<Vec<usize>>>,
    broken: Broken,
}

#[derive(Default, Clone, Copy, PartialEq)]
enum Broken {
    #[default]
    No,
    /// Panics when any request of the batch asks for a panic.
    PanicsOnTheBatch,
    /// Returns one result too few.
    DropsOne,
}

impl Service for Batcher {
    type Request = TestRequest;
    type Response = TestResponse;

    fn process(&self, request: TestRequest) -> Result<TestResponse, ServiceError> {
        Ok(TestResponse {
            text: format!("single {}", request.text),
        })
    }

    fn process_batch(&self, requests: Vec<TestRequest>) -> Vec<Result<TestResponse, ServiceError>> {
        let n = requests.len();
        self.sizes.lock().unwrap().push(n);
        if let Some(ms) = requests.iter().map(|r| r.sleep_ms).max().filter(|ms| *ms > 0) {
            std::thread::sleep(Duration::from_millis(ms));
        }
        if self.broken == Broken::PanicsOnTheBatch && requests.iter().any(|r| matches!(r.mode, Mode::Panic)) {
            panic!("the whole batch panicked");
        }
        let mut results: Vec<_> = requests
            .into_iter()
            .map(|r| match r.mode {
                Mode::Normal => Ok(TestResponse {
                    text: format!("{} of {n}", r.text.to_uppercase()),
                }),
                Mode::Refuse => Err(ServiceError::invalid_field("text", "refused in a batch")),
                Mode::Fail | Mode::Panic => Err(ServiceError::failed("item failed")),
            })
            .collect();
        if self.broken == Broken::DropsOne {
            results.pop();
        }
        results
    }
}

fn batched(max_size: usize, wait_ms: u64) -> ServerConfig {
    ServerConfig {
        workers: 1,
        queue_capacity: 64,
        batching: Batching {
            max_size,
            max_wait: Duration::from_millis(wait_ms),
        },
        ..config()
    }
}

/// Sends all `bodies` at once and returns (status, body) in the same order.
async fn send_together(server: &TestServer, bodies: Vec<serde_json::Value>) -> Vec<(u16, serde_json::Value)> {
    let calls: Vec<_> = bodies.into_iter().map(|body| spawn_call(server, body)).collect();
    let mut answers = Vec::with_capacity(calls.len());
    for call in calls {
        answers.push(call.await.unwrap());
    }
    answers
}

/// Sends one request in a task of its own.
fn spawn_call(server: &TestServer, body: serde_json::Value) -> tokio::task::JoinHandle<(u16, serde_json::Value)> {
    let (http, url) = (server.http.clone(), format!("{}/process", server.url));
    tokio::spawn(async move {
        let response = http.post(url).json(&body).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json::<serde_json::Value>().await.unwrap())
    })
}

#[tokio::test]
async fn answers_go_back_to_their_own_requests() {
    let service = Batcher::default();
    let sizes = Arc::clone(&service.sizes);
    let server = TestServer::start(service, batched(8, 100)).await;
    // The first request occupies the worker for a moment so the others queue up and form batches.
    let bodies: Vec<_> = (0..33)
        .map(|i| json!({"text": format!("req{i}"), "sleep_ms": if i == 0 { 150 } else { 0 }}))
        .collect();
    let answers = send_together(&server, bodies).await;
    for (i, (status, body)) in answers.iter().enumerate() {
        assert_eq!(*status, 200, "request {i}: {body}");
        let text = body["text"].as_str().unwrap();
        assert!(text.starts_with(&format!("REQ{i} of ")), "request {i} got {text:?}");
    }
    let sizes = sizes.lock().unwrap().clone();
    assert_eq!(sizes.iter().sum::<usize>(), 33, "{sizes:?}");
    assert!(sizes.iter().all(|s| *s <= 8), "a batch over max_batch_size: {sizes:?}");
    assert!(sizes.iter().any(|s| *s > 1), "nothing was batched: {sizes:?}");
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("easymlserve_batch_size_sum 33.0\n"), "{metrics}");
    let calls = format!("easymlserve_batch_size_count {}\n", sizes.len());
    assert!(metrics.contains(&calls), "{metrics}");
    assert!(
        metrics.contains("easymlserve_queue_wait_seconds_count 33\n"),
        "{metrics}"
    );
}

#[tokio::test]
async fn one_failing_item_fails_only_its_request() {
    let server = TestServer::start(Batcher::default(), batched(4, 200)).await;
    let bodies = vec![
        json!({"text": "a"}),
        json!({"text": "b", "mode": "refuse"}),
        json!({"text": "c", "mode": "fail"}),
        json!({"text": "d"}),
    ];
    let answers = send_together(&server, bodies).await;
    assert_eq!(answers[0].0, 200, "{:?}", answers[0]);
    assert!(answers[0].1["text"].as_str().unwrap().starts_with('A'));
    assert_eq!(answers[1].0, 422);
    assert_eq!(answers[1].1["field"], "text");
    assert_eq!(
        (answers[2].0, answers[2].1["error_type"].as_str()),
        (500, Some("model_error"))
    );
    assert_eq!(answers[3].0, 200, "{:?}", answers[3]);
}

#[tokio::test]
async fn the_default_process_batch_turns_a_panic_into_that_requests_error() {
    let cfg = batched(4, 200);
    let server = TestServer::start(TestService::default(), cfg).await;
    let bodies = vec![
        json!({"text": "x", "repeat": 2}),
        json!({"text": "boom", "mode": "panic"}),
        json!({"text": "y", "repeat": 3}),
    ];
    let answers = send_together(&server, bodies).await;
    assert_eq!(answers[0], (200, json!({"text": "xx"})));
    assert_eq!(answers[1].0, 500, "{:?}", answers[1]);
    assert_eq!(answers[2], (200, json!({"text": "yyy"})));
}

#[tokio::test]
async fn a_batch_that_panics_or_miscounts_fails_its_requests_and_the_server_serves_on() {
    for broken in [Broken::PanicsOnTheBatch, Broken::DropsOne] {
        let service = Batcher {
            broken,
            ..Batcher::default()
        };
        let server = TestServer::start(service, batched(4, 200)).await;
        let bodies = vec![
            json!({"text": "a", "mode": "panic"}),
            json!({"text": "b", "mode": "panic"}),
        ];
        for (status, body) in send_together(&server, bodies).await {
            assert_eq!(status, 500, "{body}");
        }
        let answer = server.process(json!({"text": "after"})).await;
        let (status, body) = (answer.status(), answer.json::<serde_json::Value>().await.unwrap());
        if broken == Broken::DropsOne {
            // A batch of one is short by one as well: the model's fault, reported as such.
            assert_eq!(
                (status.as_u16(), body["error_type"].as_str()),
                (500, Some("model_error"))
            );
        } else {
            assert_eq!((status.as_u16(), body), (200, json!({"text": "AFTER of 1"})));
        }
        assert_eq!(server.get("/health/ready").await.status(), 200);
    }
}

#[tokio::test]
async fn requests_that_time_out_in_the_queue_are_skipped_not_batched() {
    let cfg = ServerConfig {
        timeout: Duration::from_millis(300),
        ..batched(4, 1)
    };
    let service = Batcher::default();
    let sizes = Arc::clone(&service.sizes);
    let server = TestServer::start(service, cfg).await;
    let slow = spawn_call(&server, json!({"text": "slow", "sleep_ms": 800}));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let waiting = send_together(&server, vec![json!({"text": "w1"}), json!({"text": "w2"})]).await;
    for (status, body) in &waiting {
        assert_eq!((*status, body["error_type"].as_str()), (504, Some("timeout")), "{body}");
    }
    assert_eq!(slow.await.unwrap().0, 504);
    // The worker frees up at 800 ms: the two abandoned requests are dropped, not run, and new work runs.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let answer = server.process(json!({"text": "fresh"})).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.json::<serde_json::Value>().await.unwrap(),
        json!({"text": "FRESH of 1"})
    );
    assert_eq!(
        *sizes.lock().unwrap(),
        vec![1, 1],
        "only `slow` and `fresh` reached the model"
    );
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("easymlserve_model_failures_total{kind=\"abandoned\"} 2\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("easymlserve_model_failures_total{kind=\"timeout\"} 3\n"),
        "{metrics}"
    );
}

#[test]
fn batching_flags_layer_over_the_config_and_zero_is_refused() {
    use clap::Parser;
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        serve: easymlserve_server::ServeArgs,
    }
    let cli = Cli::parse_from(["x", "--max-batch-size", "16", "--max-batch-wait-ms", "5"]);
    let cfg = cli.serve.apply(ServerConfig::default()).unwrap();
    assert_eq!(cfg.batching.max_size, 16);
    assert_eq!(cfg.batching.max_wait, Duration::from_millis(5));
    assert_eq!(
        ServerConfig::default().batching.max_size,
        1,
        "batching is off by default"
    );
    let zero = Cli::parse_from(["x", "--max-batch-size", "0"])
        .serve
        .apply(ServerConfig::default());
    let message = zero.unwrap_err().to_string();
    assert!(message.contains("max_batch_size"), "{message}");
}
