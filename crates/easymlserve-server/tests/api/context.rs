//! The request context: progress reports reach an in-process subscriber in order before the result,
//! and a long model sees its cancellation flag when the timeout passes or the client goes away, with
//! `/metrics` counting workers still busy with abandoned requests.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use easymlserve_core::schemars::JsonSchema;
use easymlserve_core::{Capabilities, Context, Service, ServiceError};
use easymlserve_server::{Event, Server, Submit};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::util::{TestServer, config, error_body};

#[derive(Debug, Deserialize, JsonSchema)]
struct StepsRequest {
    steps: u32,
    step_ms: u64,
    /// Stop with `Cancelled` once the flag is set (otherwise run to the end regardless).
    honour_cancel: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
struct StepsResponse {
    done: u32,
}

/// Works in steps, reporting progress after each; notes whether it saw its cancellation flag.
#[derive(Clone, Default)]
struct Steps {
    saw_cancel: Arc<AtomicBool>,
    finished_steps: Arc<AtomicUsize>,
}

impl Service for Steps {
    type Request = StepsRequest;
    type Response = StepsResponse;

    fn process(&self, request: StepsRequest) -> Result<StepsResponse, ServiceError> {
        self.process_with(request, &Context::detached())
    }

    fn process_with(&self, request: StepsRequest, ctx: &Context) -> Result<StepsResponse, ServiceError> {
        for step in 0..request.steps {
            if ctx.is_cancelled() {
                self.saw_cancel.store(true, Ordering::SeqCst);
                if request.honour_cancel {
                    return Err(ServiceError::Cancelled);
                }
            }
            std::thread::sleep(Duration::from_millis(request.step_ms));
            self.finished_steps.fetch_add(1, Ordering::SeqCst);
            ctx.progress(
                f64::from(step + 1) / f64::from(request.steps),
                format!("step {}", step + 1),
            );
        }
        Ok(StepsResponse { done: request.steps })
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            cancellation: true,
            progress: true,
            ..Capabilities::default()
        }
    }
}

async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..400 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_progress_reports_then_the_result_in_order() {
    let state = Server::new(Steps::default()).config(config()).into_state();
    state.load().await.unwrap();
    let engine = state.engine();
    let valid = engine
        .validate(json!({"steps": 5, "step_ms": 1, "honour_cancel": true}))
        .unwrap();
    let mut execution = engine
        .submit(
            valid,
            Submit {
                progress: true,
                ..Submit::default()
            },
        )
        .unwrap();
    let mut events = Vec::new();
    while let Some(event) = execution.next().await {
        events.push(event);
    }
    assert_eq!(events.len(), 6, "{events:?}");
    for (i, event) in events[..5].iter().enumerate() {
        let Event::Progress(progress) = event else {
            panic!("event {i} is not progress: {event:?}");
        };
        assert_eq!(progress.fraction, Some((i + 1) as f64 / 5.0), "{events:?}");
        assert_eq!(progress.message, format!("step {}", i + 1));
    }
    let Event::Result(body) = &events[5] else {
        panic!("the last event is not the result: {events:?}");
    };
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(body).unwrap(),
        json!({"done": 5})
    );
    assert!(execution.next().await.is_none(), "nothing after the result");
    let spec = state.spec().unwrap();
    assert!(spec.capabilities.progress && spec.capabilities.cancellation);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeout_sets_the_flag_and_metrics_show_the_abandoned_worker() {
    let service = Steps::default();
    let (saw_cancel, finished) = (Arc::clone(&service.saw_cancel), Arc::clone(&service.finished_steps));
    let mut cfg = config();
    cfg.timeout = Duration::from_millis(300);
    let server = TestServer::start(service, cfg).await;
    // Ignores the flag and runs for 1.5 s: the caller gets 504 at 0.3 s while the worker goes on.
    let response = server
        .process(json!({"steps": 30, "step_ms": 50, "honour_cancel": false}))
        .await;
    let (status, body) = error_body(response).await;
    assert_eq!((status, body["error_type"].as_str()), (504, Some("timeout")), "{body}");
    eventually("the model to see its flag", async || saw_cancel.load(Ordering::SeqCst)).await;
    let metrics = server.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("easymlserve_abandoned_busy_workers 1\n"),
        "a worker still runs the abandoned request:\n{metrics}"
    );
    eventually("the abandoned request to end", async || {
        let text = server.get("/metrics").await.text().await.unwrap();
        text.contains("easymlserve_abandoned_busy_workers 0\n")
    })
    .await;
    assert_eq!(
        finished.load(Ordering::SeqCst),
        30,
        "the model ignored the flag on purpose"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_that_honours_the_flag_stops_at_the_timeout() {
    let service = Steps::default();
    let finished = Arc::clone(&service.finished_steps);
    let mut cfg = config();
    cfg.timeout = Duration::from_millis(200);
    let server = TestServer::start(service, cfg).await;
    let response = server
        .process(json!({"steps": 100, "step_ms": 20, "honour_cancel": true}))
        .await;
    assert_eq!(response.status(), 504);
    eventually("the abandoned count to return to 0", async || {
        let text = server.get("/metrics").await.text().await.unwrap();
        text.contains("easymlserve_abandoned_busy_workers 0\n") && text.contains("easymlserve_busy_workers 0\n")
    })
    .await;
    let steps = finished.load(Ordering::SeqCst);
    assert!(
        steps < 30,
        "the model stopped soon after the timeout, not after all 100 steps: {steps}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_goes_away_cancels_its_request() {
    let service = Steps::default();
    let (saw_cancel, finished) = (Arc::clone(&service.saw_cancel), Arc::clone(&service.finished_steps));
    let server = TestServer::start(service, config()).await;
    let addr = server.url.trim_start_matches("http://").to_owned();
    let body = r#"{"steps": 200, "step_ms": 10, "honour_cancel": true}"#;
    let head = format!(
        "POST /process HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body.as_bytes()).unwrap();
    eventually("the model to start", async || finished.load(Ordering::SeqCst) > 0).await;
    drop(stream);
    eventually("the model to see its flag", async || saw_cancel.load(Ordering::SeqCst)).await;
    let steps = finished.load(Ordering::SeqCst);
    assert!(steps < 200, "the model stopped early: {steps} of 200 steps");
    server.stop().await;
}
