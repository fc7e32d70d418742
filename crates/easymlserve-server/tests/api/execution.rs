//! The execution model: workers off the async runtime, model errors and panics, timeouts, the bounded
//! queue, and concurrent requests getting their own answers.

use std::sync::atomic::Ordering;
use std::time::Duration;

use easymlserve_server::ServerConfig;
use serde_json::json;

use crate::util::{SECRET_DETAIL, TestServer, TestService, assert_panics_fail_alone, config, error_body};

#[tokio::test]
async fn model_error_is_500_without_internals() {
    let server = TestServer::start(TestService::default(), config()).await;
    let response = server.process(json!({"text": "a", "mode": "fail"})).await;
    let (status, body) = error_body(response).await;
    assert_eq!((status, body["error_type"].as_str()), (500, Some("model_error")));
    assert!(!body.to_string().contains("deadbeef"), "internals leaked: {body}");
    assert!(!body.to_string().contains(SECRET_DETAIL));
}

#[tokio::test]
async fn panic_fails_one_request_and_the_server_serves_on() {
    // One worker: if a panic killed it, nothing after the first panic would be answered.
    let server = TestServer::start(TestService::default(), ServerConfig { workers: 1, ..config() }).await;
    assert_panics_fail_alone(&server, 3).await;
}

#[tokio::test]
async fn slow_model_is_504_and_the_server_serves_on() {
    let cfg = ServerConfig {
        workers: 2,
        timeout: Duration::from_millis(300),
        ..config()
    };
    let server = TestServer::start(TestService::default(), cfg).await;
    let (status, body) = error_body(server.process(json!({"text": "a", "sleep_ms": 2000})).await).await;
    assert_eq!((status, body["error_type"].as_str()), (504, Some("timeout")));
    assert!(body["error"].as_str().unwrap().contains("0.3 s"), "{body}");
    assert_eq!(server.process(json!({"text": "b"})).await.status(), 200);
}

#[tokio::test]
async fn full_queue_is_503_with_retry_after() {
    let service = TestService::default();
    let calls = service.calls.clone();
    let cfg = ServerConfig {
        workers: 1,
        queue_capacity: 1,
        ..config()
    };
    let server = std::sync::Arc::new(TestServer::start(service, cfg).await);
    // Occupy the one worker, then fill the one queue slot.
    let busy = tokio::spawn({
        let server = server.clone();
        async move { server.process(json!({"text": "busy", "sleep_ms": 1500})).await.status() }
    });
    while calls.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let queued = tokio::spawn({
        let server = server.clone();
        async move { server.process(json!({"text": "queued"})).await.status() }
    });
    let mut refused = None;
    for _ in 0..200 {
        let response = server.process(json!({"text": "extra"})).await;
        if response.status() == 503 {
            refused = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let refused = refused.expect("a request beyond the queue capacity was refused");
    assert_eq!(
        refused.headers().get("retry-after").map(|v| v.to_str().unwrap()),
        Some("1")
    );
    let (_, body) = error_body(refused).await;
    assert_eq!(body["error_type"], "queue_full");
    assert_eq!(busy.await.unwrap(), 200);
    assert_eq!(queued.await.unwrap(), 200);
}

#[tokio::test(flavor = "current_thread")]
async fn model_work_never_blocks_the_async_runtime() {
    // A single-threaded runtime: if `process` ran on it, the liveness probe would wait for the model.
    let server =
        std::sync::Arc::new(TestServer::start(TestService::default(), ServerConfig { workers: 1, ..config() }).await);
    let slow = tokio::spawn({
        let server = server.clone();
        async move { server.process(json!({"text": "slow", "sleep_ms": 1500})).await.status() }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let live = server.get("/health/live").await.status();
    assert_eq!(live, 200);
    assert!(
        !slow.is_finished(),
        "the liveness probe was answered only after the model finished"
    );
    assert_eq!(slow.await.unwrap(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_each_get_their_own_answer() {
    let server = std::sync::Arc::new(
        TestServer::start(
            TestService::default(),
            ServerConfig {
                workers: 3,
                queue_capacity: 64,
                ..config()
            },
        )
        .await,
    );
    let tasks: Vec<_> = (0..48)
        .map(|i| {
            let server = server.clone();
            tokio::spawn(async move {
                let response = server
                    .process(json!({"text": format!("<{i}>"), "repeat": 1 + i % 3, "sleep_ms": i % 5}))
                    .await;
                (
                    i,
                    response.status(),
                    response.json::<serde_json::Value>().await.unwrap(),
                )
            })
        })
        .collect();
    for task in tasks {
        let (i, status, body) = task.await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(body["text"], format!("<{i}>").repeat((1 + i % 3) as usize));
    }
}
