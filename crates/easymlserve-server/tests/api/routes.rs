//! The read-only routes: spec, OpenAPI, docs page, health probes, metrics.

use serde_json::{Value, json};

use crate::util::{TestServer, TestService, config};

#[tokio::test]
async fn process_answers_with_the_models_json() {
    let server = TestServer::start(TestService::default(), config()).await;
    let response = server.process(json!({"text": "ab", "repeat": 3})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.json::<Value>().await.unwrap(), json!({"text": "ababab"}));
    let defaulted = server
        .process(json!({"text": "ab"}))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(defaulted, json!({"text": "ab"}));
}

#[tokio::test]
async fn spec_has_info_and_schemas() {
    let server = TestServer::start(TestService::default(), config()).await;
    let spec: Value = server.get("/api/spec").await.json().await.unwrap();
    assert_eq!(spec["name"], "test service");
    assert_eq!(spec["version"], "9.9.9");
    assert_eq!(spec["request_schema"]["properties"]["repeat"]["maximum"], 10);
    assert_eq!(spec["request_schema"]["required"], json!(["text"]));
    assert_eq!(spec["response_schema"]["properties"]["text"]["type"], "string");
}

#[tokio::test]
async fn openapi_documents_every_route_with_an_example() {
    let server = TestServer::start(TestService::default(), config()).await;
    let doc: Value = server.get("/openapi.json").await.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "test service");
    for path in ["/process", "/api/spec", "/health/live", "/health/ready", "/metrics"] {
        assert!(doc["paths"][path].is_object(), "{path} missing from {}", doc["paths"]);
    }
    let body = &doc["paths"]["/process"]["post"]["requestBody"]["content"]["application/json"];
    let reference = body["schema"]["$ref"].as_str().expect("request schema is a $ref");
    let name = reference
        .strip_prefix("#/components/schemas/")
        .expect("ref into components");
    assert_eq!(
        doc["components"]["schemas"][name]["properties"]["repeat"]["maximum"],
        10
    );
    // The generated example passes the server's own validation.
    let example = body["example"].clone();
    assert_eq!(example["text"], "text");
    assert_eq!(server.process(example).await.status(), 200);
    for status in ["200", "400", "413", "415", "422", "500", "503", "504"] {
        assert!(
            doc["paths"]["/process"]["post"]["responses"][status].is_object(),
            "status {status} undocumented"
        );
    }
}

#[tokio::test]
async fn docs_page_and_its_assets_are_served_from_the_binary() {
    let server = TestServer::start(TestService::default(), config()).await;
    let page = server.get("/docs/").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(
        !html.contains("https://"),
        "the docs page loads something from the internet: {html}"
    );
    let init = server.get("/docs/swagger-initializer.js").await.text().await.unwrap();
    assert!(init.contains("/openapi.json"), "{init}");
    let bundle = server.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);
    let root = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let redirect = root.get(format!("{}/", server.url)).send().await.unwrap();
    assert_eq!(redirect.headers()["location"], "/docs/");
}

#[tokio::test]
async fn health_probes_answer() {
    let server = TestServer::start(TestService::default(), config()).await;
    let live = server.get("/health/live").await;
    assert_eq!(live.status(), 200);
    assert_eq!(live.json::<Value>().await.unwrap()["status"], "live");
    let ready = server.get("/health/ready").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.json::<Value>().await.unwrap()["status"], "ready");
}

#[tokio::test]
async fn metrics_count_requests_and_time_the_model() {
    let server = TestServer::start(TestService::default(), config()).await;
    for _ in 0..3 {
        server.process(json!({"text": "a"})).await;
    }
    server.process(json!({"text": "a", "repeat": 99})).await;
    let response = server.get("/metrics").await;
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = response.text().await.unwrap();
    assert!(
        text.contains("easymlserve_requests_total{method=\"POST\",route=\"/process\",status=\"200\"} 3"),
        "{text}"
    );
    assert!(
        text.contains("easymlserve_requests_total{method=\"POST\",route=\"/process\",status=\"422\"} 1"),
        "{text}"
    );
    assert!(text.contains("easymlserve_model_duration_seconds_count 3"), "{text}");
    assert!(
        text.contains("easymlserve_request_duration_seconds_bucket{le=\"+Inf\",route=\"/process\"} 4"),
        "{text}"
    );
    assert!(text.contains("easymlserve_queue_depth 0"), "{text}");
    assert!(
        text.contains("easymlserve_in_flight_requests 1"),
        "the /metrics request itself is in flight: {text}"
    );
    assert!(text.contains("easymlserve_workers 2"), "{text}");
    assert!(text.contains("easymlserve_ready 1"), "{text}");
}

/// Readiness turns on only once the documents of the loaded spec exist: a client that polls
/// `/health/ready` and then reads `/api/spec` or `/openapi.json` never gets a 503 in between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documents_exist_as_soon_as_the_server_is_ready() {
    for round in 0..20 {
        let server = TestServer::start(TestService::default(), config()).await;
        for path in ["/api/spec", "/openapi.json"] {
            assert_eq!(server.get(path).await.status(), 200, "{path} in round {round}");
        }
        server.stop().await;
    }
}
