//! API keys: Bearer and `x-api-key`, several keys, 401 with `WWW-Authenticate`, open health probes.

use easymlserve_server::{ApiKeys, ServerConfig};
use serde_json::json;

use crate::util::{TestServer, TestService, config, error_body};

fn keyed() -> ServerConfig {
    ServerConfig {
        api_keys: ApiKeys::parse_list("first-key,second-key"),
        ..config()
    }
}

#[tokio::test]
async fn missing_or_wrong_key_is_401() {
    let server = TestServer::start(TestService::default(), keyed()).await;
    let missing = server.process(json!({"text": "a"})).await;
    assert_eq!(missing.headers()["www-authenticate"], "Bearer realm=\"easymlserve\"");
    let (status, body) = error_body(missing).await;
    assert_eq!((status, body["error_type"].as_str()), (401, Some("unauthorized")));
    let url = format!("{}/process", server.url);
    let wrong = server
        .http
        .post(&url)
        .bearer_auth("first-ke")
        .json(&json!({"text": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let wrong_header = server
        .http
        .post(&url)
        .header("x-api-key", "nope")
        .json(&json!({"text": "a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_header.status(), 401);
}

#[tokio::test]
async fn bearer_and_x_api_key_both_work_for_every_key() {
    let server = TestServer::start(TestService::default(), keyed()).await;
    let url = format!("{}/process", server.url);
    for key in ["first-key", "second-key"] {
        let bearer = server
            .http
            .post(&url)
            .bearer_auth(key)
            .json(&json!({"text": "a"}))
            .send()
            .await
            .unwrap();
        assert_eq!(bearer.status(), 200, "bearer {key}");
        let header = server
            .http
            .post(&url)
            .header("x-api-key", key)
            .json(&json!({"text": "a"}))
            .send()
            .await
            .unwrap();
        assert_eq!(header.status(), 200, "x-api-key {key}");
    }
    let metrics = server
        .http
        .get(format!("{}/metrics", server.url))
        .bearer_auth("second-key")
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
}

#[tokio::test]
async fn health_and_docs_stay_open_metrics_do_not() {
    let server = TestServer::start(TestService::default(), keyed()).await;
    for path in ["/health/live", "/health/ready", "/api/spec", "/openapi.json", "/docs/"] {
        assert_eq!(server.get(path).await.status(), 200, "{path}");
    }
    assert_eq!(server.get("/metrics").await.status(), 401);
    let doc: serde_json::Value = server.get("/openapi.json").await.json().await.unwrap();
    assert_eq!(doc["components"]["securitySchemes"]["apiKey"]["name"], "x-api-key");
    assert!(doc["paths"]["/process"]["post"]["responses"]["401"].is_object());
}

#[tokio::test]
async fn the_client_sends_its_key() {
    let server = TestServer::start(TestService::default(), keyed()).await;
    let without = easymlserve_client::Client::new(&server.url).unwrap();
    let err = without.process_json(&json!({"text": "a"})).await.unwrap_err();
    assert_eq!((err.status(), err.error_type()), (Some(401), Some("unauthorized")));
    let with = without.api_key("second-key").unwrap();
    assert_eq!(
        with.process_json(&json!({"text": "a", "repeat": 2})).await.unwrap(),
        json!({"text": "aa"})
    );
    with.ready().await.unwrap();
    let spec = with.spec().await.unwrap();
    assert_eq!(spec.info.name, "test service");
}
