//! Every client error status of the REST contract, each in the `{"error", "error_type"}` shape.

use easymlserve_server::ServerConfig;
use serde_json::json;

use crate::util::{TestServer, TestService, config, error_body, raw_status};

#[tokio::test]
async fn malformed_json_is_400() {
    let server = TestServer::start(TestService::default(), config()).await;
    let response = server
        .http
        .post(format!("{}/process", server.url))
        .header("content-type", "application/json")
        .body("{\"text\": ")
        .send()
        .await
        .unwrap();
    let (status, body) = error_body(response).await;
    assert_eq!(status, 400);
    assert_eq!(body["error_type"], "malformed_json");
    assert!(body["error"].as_str().unwrap().contains("not valid JSON"), "{body}");
}

#[tokio::test]
async fn wrong_or_missing_content_type_is_415() {
    let server = TestServer::start(TestService::default(), config()).await;
    let url = format!("{}/process", server.url);
    let plain = server
        .http
        .post(&url)
        .header("content-type", "text/plain")
        .body(r#"{"text":"a"}"#)
        .send()
        .await
        .unwrap();
    let (status, body) = error_body(plain).await;
    assert_eq!(
        (status, body["error_type"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    assert!(body["error"].as_str().unwrap().contains("`text/plain`"), "{body}");
    let missing = server.http.post(&url).body(r#"{"text":"a"}"#).send().await.unwrap();
    assert_eq!(error_body(missing).await.0, 415);
}

#[tokio::test]
async fn missing_field_is_422_naming_it() {
    let server = TestServer::start(TestService::default(), config()).await;
    let (status, body) = error_body(server.process(json!({"repeat": 2})).await).await;
    assert_eq!(status, 422);
    assert_eq!(body["error_type"], "validation_error");
    assert_eq!(body["field"], "text");
    assert_eq!(body["error"], "`text` is required");
}

#[tokio::test]
async fn wrong_type_is_422_naming_the_field() {
    let server = TestServer::start(TestService::default(), config()).await;
    let (status, body) = error_body(server.process(json!({"text": "a", "repeat": "three"})).await).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("repeat")));
    assert_eq!(body["error"], "`repeat` must be an integer, got a string");
    let (status, body) = error_body(server.process(json!(["not", "an", "object"])).await).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"], "the request body must be an object, got an array");
}

#[tokio::test]
async fn out_of_range_is_422_with_the_limit() {
    let server = TestServer::start(TestService::default(), config()).await;
    let (status, body) = error_body(server.process(json!({"text": "a", "repeat": 11})).await).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("repeat")));
    assert_eq!(body["error"], "`repeat` must be at most 10, got 11");
    let (_, body) = error_body(server.process(json!({"text": "a", "repeat": 0})).await).await;
    assert_eq!(body["error"], "`repeat` must be at least 1, got 0");
}

#[tokio::test]
async fn nested_paths_are_named() {
    let server = TestServer::start(TestService::default(), config()).await;
    let (status, body) = error_body(server.process(json!({"text": "a", "options": {"scale": 1.5}})).await).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("options.scale")));
    assert_eq!(body["error"], "`options.scale` must be at most 1, got 1.5");
    let (_, body) = error_body(server.process(json!({"text": "a", "tags": ["x", 7]})).await).await;
    assert_eq!(body["field"], "tags[1]");
    assert_eq!(body["error"], "`tags[1]` must be a string, got an integer");
    let (_, body) = error_body(server.process(json!({"text": "a", "tags": ["a", "b", "c", "d"]})).await).await;
    assert_eq!(body["error"], "`tags` takes at most 3 items, got 4");
    let (_, body) = error_body(server.process(json!({"text": "a", "mode": "explode"})).await).await;
    assert_eq!(body["field"], "mode");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .starts_with("`mode` must be one of \"normal\""),
        "{body}"
    );
}

#[tokio::test]
async fn model_refusal_is_422_with_its_message() {
    let server = TestServer::start(TestService::default(), config()).await;
    let (status, body) = error_body(server.process(json!({"text": "a", "mode": "refuse"})).await).await;
    assert_eq!(
        (status, body["error_type"].as_str(), body["field"].as_str()),
        (422, Some("invalid_input"), Some("text"))
    );
    assert_eq!(body["error"], "`text`: this model only reads English");
}

#[tokio::test]
async fn body_over_the_limit_is_413_from_content_length() {
    let server = TestServer::start(
        TestService::default(),
        ServerConfig {
            body_limit: 1024,
            ..config()
        },
    )
    .await;
    let big = json!({"text": "x".repeat(4096)});
    let (status, body) = error_body(server.process(big).await).await;
    assert_eq!((status, body["error_type"].as_str()), (413, Some("payload_too_large")));
    assert!(body["error"].as_str().unwrap().contains("1024 bytes"), "{body}");
    assert_eq!(server.process(json!({"text": "small"})).await.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_body_over_the_limit_is_cut_off_with_413() {
    let limit = 64 * 1024;
    let server = TestServer::start(
        TestService::default(),
        ServerConfig {
            body_limit: limit,
            ..config()
        },
    )
    .await;
    let addr = server.url.trim_start_matches("http://").to_owned();
    // Chunked, no Content-Length: the server cannot know the size up front and must stop reading at
    // the limit. The client would send 64 MiB if the server kept reading.
    let head = format!(
        "POST /process HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let chunk = {
        let data = vec![b' '; 64 * 1024];
        let mut c = format!("{:x}\r\n", data.len()).into_bytes();
        c.extend_from_slice(&data);
        c.extend_from_slice(b"\r\n");
        c
    };
    let status = tokio::task::spawn_blocking(move || raw_status(&addr, &head, std::iter::repeat_n(chunk, 1024)))
        .await
        .unwrap();
    assert_eq!(status, 413);
}

#[tokio::test]
async fn unknown_route_is_404_and_wrong_method_405_in_json() {
    let server = TestServer::start(TestService::default(), config()).await;
    let (status, body) = error_body(server.get("/predict").await).await;
    assert_eq!((status, body["error_type"].as_str()), (404, Some("not_found")));
    assert!(body["error"].as_str().unwrap().contains("GET /predict"), "{body}");
    let (status, body) = error_body(server.get("/process").await).await;
    assert_eq!((status, body["error_type"].as_str()), (405, Some("method_not_allowed")));
}
