//! The GUI's HTTP exchange without a browser: the page and its headers, `/ui/submit` and `/ui/preview`
//! with good and bad form data, errors passed on from the service, and a service that is down. The GUI
//! runs standalone here, talking to a real service over REST. The last test fuzzes the multipart
//! reader with generated, truncated and corrupted forms.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::time::Duration;

use easymlserve_core::schemars::JsonSchema;
use easymlserve_core::{Service, ServiceError};
use easymlserve_server::{Server, ServerConfig};
use easymlserve_ui::{Input, InputValues, Output, OutputValue, OutputValues, Ui, UiError};
use easymlserve_web::WebUi;
use reqwest::multipart::{Form, Part};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Serialize, Deserialize, JsonSchema)]
struct Req {
    text: String,
    #[schemars(range(min = 1, max = 5))]
    repeat: u32,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Resp {
    text: String,
}

struct Repeat;

impl Service for Repeat {
    type Request = Req;
    type Response = Resp;
    fn process(&self, r: Req) -> Result<Resp, ServiceError> {
        if r.text == "forbidden" {
            return Err(ServiceError::invalid_field("text", "this word is not allowed"));
        }
        Ok(Resp {
            text: r.text.repeat(r.repeat as usize),
        })
    }
}

struct RepeatUi;

impl Ui for RepeatUi {
    type Request = Req;
    type Response = Resp;
    fn inputs(&self) -> Vec<Input> {
        vec![
            Input::text("text", "Text"),
            Input::number("repeat", "Repeat", true).bounds(1.0, 9.0),
            Input::csv_file("table", "Table").optional(),
        ]
    }
    fn outputs(&self) -> Vec<Output> {
        vec![Output::text("out", "Out")]
    }
    fn prepare_request(&self, inputs: &InputValues) -> Result<Req, UiError> {
        Ok(Req {
            text: inputs.text("text")?.unwrap_or("").to_owned(),
            repeat: inputs.number("repeat")?.unwrap_or(1.0) as u32,
        })
    }
    fn process_response(&self, _: &Req, r: Resp) -> Result<OutputValues, UiError> {
        Ok(OutputValues::new().with("out", OutputValue::Text(r.text)))
    }
}

async fn listen() -> (tokio::net::TcpListener, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// A service and a standalone GUI for it; returns the GUI's URL.
async fn start(gui: impl FnOnce(String) -> WebUi) -> String {
    let (listener, service_url) = listen().await;
    let server = Server::new(Repeat).config(ServerConfig {
        workers: 1,
        ..ServerConfig::default()
    });
    tokio::spawn(server.serve_with_shutdown(listener, std::future::pending()));
    let client = easymlserve_client::Client::new(service_url.clone()).unwrap();
    while client.ready().await.is_err() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (listener, url) = listen().await;
    tokio::spawn(gui(service_url).serve_with_shutdown(listener, std::future::pending()));
    let http = reqwest::Client::new();
    while http.get(format!("{url}/health/live")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    url
}

async fn submit(url: &str, form: Form) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}/ui/submit"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn form(text: &str, repeat: &str) -> Form {
    Form::new()
        .text("text", text.to_owned())
        .text("repeat", repeat.to_owned())
}

#[tokio::test]
async fn the_page_is_self_contained_and_locked_down() {
    let url = start(|s| WebUi::new(RepeatUi).service_url(s)).await;
    let page = reqwest::get(format!("{url}/ui/")).await.unwrap();
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    for asset in [
        "style.css",
        "app.js",
        "inputs.js",
        "outputs.js",
        "progress.js",
        "plot.js",
        "rich.js",
        "rich.css",
    ] {
        assert!(html.contains(&format!("assets/{asset}")), "{asset} not linked");
        let body = reqwest::get(format!("{url}/ui/assets/{asset}"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for remote in ["http://", "https://", "//cdn"] {
            let found = body
                .lines()
                .find(|l| l.contains(remote) && !l.contains("www.w3.org/2000/svg"));
            assert!(found.is_none(), "{asset} refers to the network: {found:?}");
        }
    }
    assert_eq!(
        reqwest::get(format!("{url}/ui/assets/../Cargo.toml"))
            .await
            .unwrap()
            .status(),
        404
    );
    let spec: Value = reqwest::get(format!("{url}/ui/spec"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        spec["inputs"][1],
        json!({"name": "repeat", "label": "Repeat", "required": true, "kind": "number", "integer": true, "min": 1.0, "max": 9.0})
    );
    assert!(spec["page"]["process_url"].as_str().unwrap().ends_with("/process"));
}

#[tokio::test]
async fn submit_runs_the_ui_and_the_service() {
    let url = start(|s| WebUi::new(RepeatUi).service_url(s)).await;
    let (status, body) = submit(&url, form("ab", "3")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["outputs"],
        json!([{"name": "out", "kind": "text", "value": "ababab"}])
    );
    assert_eq!(
        body.get("request"),
        None,
        "the answer does not echo the request: {body}"
    );
}

#[tokio::test]
async fn the_api_panels_request_is_the_one_the_form_sends() {
    let service = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let seen = std::sync::Arc::clone(&service);
    let url = start(move |s| {
        seen.lock().unwrap().clone_from(&s);
        WebUi::new(RepeatUi).service_url(s)
    })
    .await;
    let service = service.lock().unwrap().clone();
    let http = reqwest::Client::new();
    let request: Value = http
        .post(format!("{url}/ui/request"))
        .multipart(form("ab", "3"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(request, json!({"text": "ab", "repeat": 3}));
    // Run as the panel's command runs it: `POST /process` of that JSON gives what the form showed.
    let answer: Value = http
        .post(format!("{service}/process"))
        .json(&request)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, shown) = submit(&url, form("ab", "3")).await;
    assert_eq!(shown["outputs"][0]["value"], answer["text"], "{shown} {answer}");

    // A form the UI refuses gets the same field error as a submission, and calls nothing.
    let refused = http
        .post(format!("{url}/ui/request"))
        .multipart(form("ab", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["field"], "repeat", "{body}");
}

#[tokio::test]
async fn form_errors_name_the_input() {
    let url = start(|s| WebUi::new(RepeatUi).service_url(s)).await;
    let (status, body) = submit(&url, Form::new().text("repeat", "2")).await;
    assert_eq!(
        (status, body["field"].as_str(), body["error"].as_str()),
        (422, Some("text"), Some("Text is required"))
    );
    let (status, body) = submit(&url, form("a", "12")).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("repeat")));
    assert_eq!(body["error"], "Repeat must be at most 9, got 12");
    let (status, body) = submit(&url, form("a", "1").text("colour", "red")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("the form has no input named `colour`"))
    );
    let bad_csv = Part::bytes(b"a,b\n1\n".to_vec()).file_name("t.csv");
    let (status, body) = submit(&url, form("a", "1").part("table", bad_csv)).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("table")));
    assert_eq!(body["error"], "line 2: expected 2 fields like the header, found 1");
}

#[tokio::test]
async fn service_errors_come_through_with_their_status() {
    let url = start(|s| WebUi::new(RepeatUi).service_url(s)).await;
    // The UI allows 9, the service only 5: the service's 422 reaches the page, with the field.
    let (status, body) = submit(&url, form("a", "7")).await;
    assert_eq!((status, body["error_type"].as_str()), (422, Some("validation_error")));
    assert_eq!(body["error"], "`repeat` must be at most 5, got 7");
    assert_eq!(body["field"], "repeat");
    let (status, body) = submit(&url, form("forbidden", "1")).await;
    assert_eq!((status, body["field"].as_str()), (422, Some("text")));
}

#[tokio::test]
async fn uploads_over_the_limit_are_refused() {
    let url = start(|s| WebUi::new(RepeatUi).service_url(s).body_limit(1024)).await;
    let big = Part::bytes(vec![b'x'; 64 * 1024]).file_name("t.csv");
    let response = reqwest::Client::new()
        .post(format!("{url}/ui/submit"))
        .multipart(form("a", "1").part("table", big))
        .send()
        .await;
    // The server may answer 413 before the whole upload is sent, or close the connection.
    if let Ok(response) = response {
        assert_eq!(response.status(), 413);
    }
    let (status, _) = submit(&url, form("a", "1")).await;
    assert_eq!(status, 200, "the GUI serves on after a refused upload");
}

#[tokio::test]
async fn previews_parse_files_like_the_submission() {
    let url = start(|s| WebUi::new(RepeatUi).service_url(s)).await;
    let http = reqwest::Client::new();
    let good = Form::new().part("table", Part::bytes(b"a,b\n1,2\n3,4\n".to_vec()).file_name("t.csv"));
    let body: Value = http
        .post(format!("{url}/ui/preview"))
        .multipart(good)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        json!({"kind": "table", "table": {"columns": ["a", "b"], "rows": [["1", "2"], ["3", "4"]]}, "rows": 2})
    );
    let bad = Form::new().part("table", Part::bytes(b"a,b\n1,2,3\n".to_vec()).file_name("t.csv"));
    let response = http
        .post(format!("{url}/ui/preview"))
        .multipart(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    assert_eq!(response.json::<Value>().await.unwrap()["field"], "table");
}

#[tokio::test]
async fn a_service_that_is_down_gives_502() {
    let (listener, dead) = listen().await;
    drop(listener);
    let (listener, url) = listen().await;
    tokio::spawn(
        WebUi::new(RepeatUi)
            .service_url(dead.clone())
            .serve_with_shutdown(listener, std::future::pending()),
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (status, body) = submit(&url, form("a", "1")).await;
    assert_eq!(
        (status, body["error_type"].as_str()),
        (502, Some("service_unreachable"))
    );
    assert_eq!(
        body["error"],
        format!("the service at {dead}/process cannot be reached; is it running?")
    );
}

#[tokio::test]
async fn a_generated_gui_comes_from_the_services_schema() {
    let url = start(|s| WebUi::generated().service_url(s)).await;
    let spec: Value = reqwest::get(format!("{url}/ui/spec"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = spec["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["range", "text"]);
    let (status, body) = submit(&url, form("xy", "2")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["outputs"][0],
        json!({"name": "text", "kind": "text", "value": "xyxy"})
    );
}

/// One multipart part: a known or unknown input name, maybe a file name, some bytes.
fn part() -> impl proptest::strategy::Strategy<Value = (String, Option<String>, Vec<u8>)> {
    use proptest::prelude::*;
    (
        prop_oneof![
            Just("text".to_owned()),
            Just("repeat".to_owned()),
            Just("table".to_owned()),
            "[a-z\"]{0,6}"
        ],
        proptest::option::of("[a-z./\\\\]{0,12}"),
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            Just(b"time,value\n2020-01-01T00:00:00Z,1\n".to_vec()),
            Just(b"3".to_vec()),
        ],
    )
}

/// A multipart body with boundary `B0undary`, then maybe cut short or with a byte flipped.
fn multipart_body(
    parts: &[(String, Option<String>, Vec<u8>)],
    cut: Option<proptest::sample::Index>,
    flip: Option<(proptest::sample::Index, u8)>,
) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(b"--B0undary\r\nContent-Disposition: form-data; name=\"");
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(b"\"");
        if let Some(file) = file {
            body.extend_from_slice(format!("; filename=\"{file}\"").as_bytes());
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--B0undary--\r\n");
    if let Some((at, value)) = flip {
        let i = at.index(body.len());
        body[i] = value;
    }
    if let Some(cut) = cut {
        body.truncate(cut.index(body.len() + 1));
    }
    body
}

#[test]
fn arbitrary_multipart_forms_get_an_answer_the_form_documents() {
    use proptest::prelude::*;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = runtime.block_on(start(|service| WebUi::new(RepeatUi).service_url(service)));
    let http = reqwest::Client::new();
    let config = ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(128),
        ..ProptestConfig::default()
    };
    proptest!(config, |(
        parts in proptest::collection::vec(part(), 0..5),
        cut in proptest::option::of(any::<proptest::sample::Index>()),
        flip in proptest::option::of((any::<proptest::sample::Index>(), any::<u8>())),
        route in prop_oneof![Just("submit"), Just("preview")],
    )| {
        let body = multipart_body(&parts, cut, flip);
        let (status, answer) = runtime.block_on(async {
            let response = http
                .post(format!("{url}/ui/{route}"))
                .header("content-type", "multipart/form-data; boundary=B0undary")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        });
        prop_assert!(matches!(status, 200 | 400 | 413 | 422), "status {} with {}", status, answer);
        if status != 200 {
            prop_assert!(answer["error"].is_string() && answer["error_type"].is_string(), "{}", answer);
        }
    });
    // Still serving after all that.
    let page = runtime.block_on(async { http.get(format!("{url}/ui/")).send().await.unwrap().status() });
    assert_eq!(page, 200);
}

#[tokio::test]
async fn no_route_serves_a_path_from_the_disk() {
    let url = start(|service| WebUi::new(RepeatUi).service_url(service)).await;
    let http = reqwest::Client::new();
    let attempts = [
        "/ui/assets/..%2f..%2fCargo.toml",
        "/ui/assets/%2e%2e/%2e%2e/Cargo.toml",
        "/ui/assets/..%5c..%5cCargo.toml",
        "/ui/assets/%2fetc%2fpasswd",
        "/ui/assets/Cargo.toml",
        "/ui/../../../../etc/passwd",
        "/ui/assets/app.js%00.png",
        "/docs/..%2f..%2f..%2fetc%2fpasswd",
        "/etc/passwd",
        "/Cargo.toml",
    ];
    for path in attempts {
        let response = http.get(format!("{url}{path}")).send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert!(matches!(status, 301 | 308 | 400 | 404), "{path}: {status}");
        assert!(
            !body.contains("root:") && !body.contains("[workspace]"),
            "{path} leaked a file: {body}"
        );
    }
    // The real assets are there, so the refusals above are not a broken asset route.
    let js = http.get(format!("{url}/ui/assets/app.js")).send().await.unwrap();
    assert_eq!(js.status(), 200);
    assert_eq!(js.headers()["x-content-type-options"], "nosniff");
}
