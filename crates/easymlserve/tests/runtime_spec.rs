//! A backend whose request schema exists only at run time, read from a JSON Schema file when it loads
//! (as a Python worker's or an ONNX file's will be), is served like a typed service: validation with
//! field paths, `/api/spec`, `/openapi.json`, and a web form generated from the loaded schema, checked
//! over HTTP and in headless Chromium.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use easymlserve::prelude::*;
use easymlserve::server::{Backend, Item, LoadError, ModelError};
use easymlserve::{ServiceSpec, serde_json};
use easymlserve_testkit::{Browser, serve};
use fantoccini::Locator;
use serde_json::{Value, json};

/// Measures routes; knows its request schema only once `load` has read the file.
struct RouteBackend {
    schema_file: PathBuf,
    load_delay: Duration,
}

impl RouteBackend {
    fn new(load_delay: Duration) -> Self {
        let schema_file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/route.schema.json");
        Self {
            schema_file,
            load_delay,
        }
    }
}

/// Great-circle distance in kilometres.
fn haversine(a: &Value, b: &Value) -> f64 {
    let rad = |p: &Value, k: &str| p[k].as_f64().unwrap_or(0.0).to_radians();
    let (lat1, lon1, lat2, lon2) = (rad(a, "lat"), rad(a, "lon"), rad(b, "lat"), rad(b, "lon"));
    let h = ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

impl Backend for RouteBackend {
    fn load(&mut self) -> Result<ServiceSpec, LoadError> {
        std::thread::sleep(self.load_delay);
        let text = std::fs::read_to_string(&self.schema_file)
            .map_err(|e| LoadError::new(format!("cannot read {}: {e}", self.schema_file.display())))?;
        let request: Value = serde_json::from_str(&text).map_err(|e| LoadError::new(e.to_string()))?;
        let response = json!({
            "title": "RouteAnswer", "type": "object",
            "properties": {"km": {"type": "number"}, "hours": {"type": "number"}, "stops": {"type": "integer"}},
            "required": ["km", "hours", "stops"],
        });
        let info = ServiceInfo::new("Route length").description("Adds up the great-circle legs of a route.");
        Ok(ServiceSpec::new(info, request, response))
    }

    fn run(&self, item: Item) -> Result<Bytes, ModelError> {
        let request = item.request;
        let points = request["points"].as_array().cloned().unwrap_or_default();
        let km: f64 = points.windows(2).map(|w| haversine(&w[0], &w[1])).sum();
        let speed = request["speed_kmh"].as_f64().unwrap_or(50.0);
        let answer = json!({"km": (km * 10.0).round() / 10.0, "hours": km / speed, "stops": points.len()});
        Ok(Bytes::from(answer.to_string()))
    }
}

fn server(load_delay: Duration) -> Server {
    Server::from_backend(RouteBackend::new(load_delay)).with_generated_ui()
}

async fn post(url: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}/process"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

const KARLSRUHE: (f64, f64) = (49.0069, 8.4037);
const BERLIN: (f64, f64) = (52.52, 13.405);

fn route(points: &[(f64, f64)]) -> Value {
    let points: Vec<Value> = points
        .iter()
        .map(|(lat, lon)| json!({"lat": lat, "lon": lon}))
        .collect();
    json!({"name": "trip", "points": points})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spec_validation_and_documents_come_from_the_loaded_schema() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(server(Duration::from_millis(400)).serve_with_shutdown(listener, std::future::pending()));
    let http = reqwest::Client::new();
    // Before the schema file is read there is no spec to publish.
    let early = http.get(format!("{url}/api/spec")).send().await.unwrap();
    assert_eq!(early.status(), 503, "no spec before loading");
    let client = Client::new(url.clone()).unwrap();
    while client.ready().await.is_err() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let spec: Value = http
        .get(format!("{url}/api/spec"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let file: Value = serde_json::from_str(include_str!("fixtures/route.schema.json")).unwrap();
    assert_eq!(spec["request_schema"], file, "the schema is the file's");
    assert_eq!(spec["name"], "Route length");
    let inputs: Vec<&str> = spec["ui"]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        inputs,
        ["name", "points", "speed_kmh"],
        "the generated form is in /api/spec"
    );

    let openapi: Value = http
        .get(format!("{url}/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let body = &openapi["paths"]["/process"]["post"]["requestBody"]["content"]["application/json"];
    assert_eq!(body["schema"]["$ref"], "#/components/schemas/RouteRequest");
    let components = &openapi["components"]["schemas"];
    assert_eq!(
        components["RouteRequest"]["properties"]["points"]["items"]["$ref"],
        "#/components/schemas/Point"
    );
    assert_eq!(components["Point"]["properties"]["lat"]["maximum"], 90);
    assert!(
        body["example"]["points"].is_array(),
        "an example built from the schema: {body}"
    );

    let (status, answer) = post(&url, route(&[KARLSRUHE, BERLIN])).await;
    assert_eq!(status, 200, "{answer}");
    let km = answer["km"].as_f64().unwrap();
    assert!(
        (km - 526.0).abs() < 10.0,
        "Karlsruhe to Berlin is about 526 km, got {km}"
    );

    let (status, error) = post(&url, route(&[KARLSRUHE, (95.0, 13.4)])).await;
    assert_eq!(
        (status, error["field"].as_str()),
        (422, Some("points[1].lat")),
        "{error}"
    );
    assert!(
        error["error"].as_str().unwrap().contains("90"),
        "the limit is named: {error}"
    );
    let (status, error) = post(&url, route(&[KARLSRUHE])).await;
    assert_eq!(
        (status, error["field"].as_str()),
        (422, Some("points")),
        "minItems: {error}"
    );
    let (status, error) = post(&url, json!({"points": []})).await;
    assert_eq!(
        (status, error["error_type"].as_str()),
        (422, Some("validation_error")),
        "{error}"
    );
    let mut extra = route(&[KARLSRUHE, BERLIN]);
    extra["colour"] = json!("red");
    let (status, error) = post(&url, extra).await;
    assert_eq!(status, 422, "additionalProperties: {error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_form_works_over_http_and_in_the_browser() {
    let url = serve(server(Duration::ZERO)).await;
    let page: Value = reqwest::get(format!("{url}/ui/spec"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = page["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 3, "{page}");
    assert_eq!(page["inputs"][2]["kind"], "range", "speed has bounds: a slider");
    assert_eq!(page["title"], "Route length");

    let points = json!([{"lat": KARLSRUHE.0, "lon": KARLSRUHE.1}, {"lat": BERLIN.0, "lon": BERLIN.1}]).to_string();
    let form = reqwest::multipart::Form::new()
        .text("name", "trip")
        .text("points", points.clone())
        .text("speed_kmh", "100");
    let request_form = reqwest::multipart::Form::new()
        .text("name", "trip")
        .text("points", points.clone())
        .text("speed_kmh", "100");
    let answer: Value = reqwest::Client::new()
        .post(format!("{url}/ui/submit"))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let request: Value = reqwest::Client::new()
        .post(format!("{url}/ui/request"))
        .multipart(request_form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(request["speed_kmh"], 100.0, "{request}");
    assert_eq!(answer.get("request"), None, "{answer}");
    // The generated GUI shows each response field on its own: the number of stops is one output.
    let stops = answer["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "stops");
    assert_eq!(stops.map(|o| &o["value"]), Some(&json!(2.0)), "{answer}");

    let browser = Browser::start(1100, 900).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    assert_eq!(browser.text("#title").await, "Route length");
    browser
        .client
        .find(Locator::Css("#in-name"))
        .await
        .unwrap()
        .send_keys("trip")
        .await
        .unwrap();
    // An array of records is a Dataframe grid: one row per point, one column per field.
    assert_eq!(browser.count("#in-points thead th").await, 4, "#, lat, lon, remove");
    while browser.count("#in-points tbody tr").await < 2 {
        browser.click("#field-points .dataframe-add").await;
    }
    for (row, (lat, lon)) in [KARLSRUHE, BERLIN].into_iter().enumerate() {
        for (col, value) in [lat, lon].into_iter().enumerate() {
            let css = format!("#in-points [data-row=\"{row}\"][data-col=\"{col}\"]");
            let cell = browser.client.find(Locator::Css(&css)).await.unwrap();
            cell.send_keys(&value.to_string()).await.unwrap();
        }
    }
    browser.click("#submit").await;
    let shown = browser.wait_for_text("#out-km", "52").await;
    assert!(
        shown.contains("526") || shown.contains("525") || shown.contains("527"),
        "{shown}"
    );
    browser.close().await;
}
