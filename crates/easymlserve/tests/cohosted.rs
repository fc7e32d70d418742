//! A GUI co-hosted with its service (issue 17, item 5): the submit answer does not echo the request,
//! the page's "use via API" panel still shows a command that runs (its JSON, sent to `/process`, gives
//! what the page showed), the server's schema validation still answers 422 naming the field, and the
//! conversions of one submission are counted: the request is written once (by `prepare_request`) and
//! read once (by the service), the response written once and read once, straight from the model's
//! bytes, with no `serde_json::Value` in between.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::sync::Mutex;

use easymlserve::prelude::*;
use easymlserve::serde_json::{self, Value, json};
use easymlserve_testkit::{Browser, serve};
use serde::{Deserializer, Serializer};

/// Every serialisation and deserialisation of the two types, with the serde (de)serialiser used.
static SEEN: Mutex<Vec<(&str, &str)>> = Mutex::new(Vec::new());

fn seen(what: &'static str, with: &'static str) {
    SEEN.lock().unwrap().push((what, with));
}

/// The request: a bounded number and a label.
#[derive(JsonSchema)]
struct Scale {
    #[schemars(range(min = 0, max = 100))]
    x: f64,
    label: String,
}

#[derive(Serialize, Deserialize)]
struct ScaleWire {
    x: f64,
    label: String,
}

impl Serialize for Scale {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        seen("request written", std::any::type_name::<S>());
        ScaleWire {
            x: self.x,
            label: self.label.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Scale {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        seen("request read", std::any::type_name::<D>());
        let ScaleWire { x, label } = ScaleWire::deserialize(d)?;
        Ok(Self { x, label })
    }
}

/// The response.
#[derive(JsonSchema)]
struct Scaled {
    y: f64,
    label: String,
}

#[derive(Serialize, Deserialize)]
struct ScaledWire {
    y: f64,
    label: String,
}

impl Serialize for Scaled {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        seen("response written", std::any::type_name::<S>());
        ScaledWire {
            y: self.y,
            label: self.label.clone(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Scaled {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        seen("response read", std::any::type_name::<D>());
        let ScaledWire { y, label } = ScaledWire::deserialize(d)?;
        Ok(Self { y, label })
    }
}

struct Triple;

impl Service for Triple {
    type Request = Scale;
    type Response = Scaled;
    fn process(&self, request: Scale) -> Result<Scaled, ServiceError> {
        Ok(Scaled {
            y: 3.0 * request.x,
            label: request.label.to_uppercase(),
        })
    }
}

/// A Ui with no bounds of its own: the schema's bounds are the server's to check.
struct TripleUi;

impl Ui for TripleUi {
    type Request = Scale;
    type Response = Scaled;
    fn inputs(&self) -> Vec<Input> {
        vec![Input::number("x", "x", false), Input::text("label", "Label")]
    }
    fn outputs(&self) -> Vec<Output> {
        vec![Output::number("y", "3 x"), Output::text("label", "Label")]
    }
    fn prepare_request(&self, inputs: &InputValues) -> Result<Scale, UiError> {
        Ok(Scale {
            x: inputs.number("x")?.unwrap_or_default(),
            label: inputs.text("label")?.unwrap_or_default().to_owned(),
        })
    }
    fn process_response(&self, _: &Scale, response: Scaled) -> Result<OutputValues, UiError> {
        Ok(OutputValues::new()
            .with("y", OutputValue::Number(response.y))
            .with("label", OutputValue::Text(response.label)))
    }
}

fn form(x: &str, label: &str) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new()
        .text("x", x.to_owned())
        .text("label", label.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cohosted_submission_converts_each_value_once_and_echoes_nothing() {
    let url = serve(Server::new(Triple).with_ui(TripleUi)).await;
    SEEN.lock().unwrap().clear();
    let response = reqwest::Client::new()
        .post(format!("{url}/ui/submit"))
        .multipart(form("2.5", "it's"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["outputs"][0]["value"], 7.5, "{answer}");
    assert_eq!(answer["outputs"][1]["value"], "IT'S", "{answer}");
    assert_eq!(answer.get("request"), None, "the answer echoes no request: {answer}");

    let seen = SEEN.lock().unwrap().clone();
    let what: Vec<&str> = seen.iter().map(|(what, _)| *what).collect();
    assert_eq!(
        what,
        ["request written", "request read", "response written", "response read"],
        "{seen:?}"
    );
    // The model's answer bytes are read straight into the GUI's type (before: parsed to a Value first).
    assert!(
        seen[3].1.contains("SliceRead"),
        "the response was read from {}",
        seen[3].1
    );
    // The request is validated as a Value, never written to bytes and parsed back.
    assert!(seen[1].1.contains("Value"), "the request was read from {}", seen[1].1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schema_still_guards_a_cohosted_submission() {
    let url = serve(Server::new(Triple).with_ui(TripleUi)).await;
    let response = reqwest::Client::new()
        .post(format!("{url}/ui/submit"))
        .multipart(form("1000", "big"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["field"], "x", "{body}");
    assert!(body["error"].as_str().unwrap().contains("at most 100"), "{body}");
}

/// The `-d '…'` JSON and the URL of the panel's curl command.
fn parse_curl(curl: &str) -> (String, Value) {
    let url = curl.split('\'').nth(1).unwrap().to_owned();
    let data = curl.split_once("-d '").unwrap().1;
    let data = data.strip_suffix('\'').unwrap().replace("'\\''", "'");
    (url, serde_json::from_str(&data).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_panel_shows_a_command_that_runs() {
    let url = serve(Server::new(Triple).with_ui(TripleUi)).await;
    let browser = Browser::start(1000, 900).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    browser
        .js("const set = (id, v) => { const n = document.getElementById(id); n.value = v; n.dispatchEvent(new Event('input')); };
             set('in-x', '4'); set('in-label', \"o'clock\");")
        .await;
    browser.click("#submit").await;
    browser.wait_for_text("#status", "Done in").await;
    let shown = browser.text("#out-y .number-value").await;
    browser.click("#api-panel summary").await;
    let curl = browser.wait_for_text("#curl", "curl -X POST").await;
    browser.close().await;

    let (process, request) = parse_curl(&curl);
    assert_eq!(process, format!("{url}/process"), "{curl}");
    // The page writes the number as JSON does (`4`), the quote escaped for the shell.
    assert_eq!(
        (request["x"].as_f64(), request["label"].as_str()),
        (Some(4.0), Some("o'clock")),
        "{curl}"
    );
    let answer: Value = reqwest::Client::new()
        .post(&process)
        .json(&request)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer, json!({"y": 12.0, "label": "O'CLOCK"}));
    assert!(shown.starts_with("12"), "the page showed {shown}");
}
