//! The Python forecasting example (examples/python-forecasting) served by the real `easymlserve` binary
//! with Python workers: its forecasts for a shipped month, its refusals compared with the Rust example's
//! own, and the Rust example's GUI description (`ForecastUi`) run as a standalone web GUI against it.
//!
//! The workers run the interpreter of `EASYMLSERVE_TEST_VENV_PYTHON_FORECASTING` (scripts/test builds it
//! from scripts/venvs/python-forecasting.txt); without it every test here says it is skipped. The models
//! are quick ones (`PYTHON_FORECASTING_TRAIN=small`: 2,000 hours, a 10-tree forest), trained by the first
//! worker that finds none into a folder that the tests share and keep.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use easymlserve::prelude::*;
use easymlserve::serde_json::{Value, json};
use easymlserve_python_tests::{PythonServer, forecast_request, forecasting_python, repo_root, serves_python};
use load_forecasting::service::LoadForecaster;
use load_forecasting::ui::forecast_ui;

const SERVICE: &str = "examples/python-forecasting/service.py";
/// Start-up of the first test may include training the quick models (seconds) and importing
/// scikit-learn in each worker on a busy machine.
const READY_TIMEOUT: Duration = Duration::from_secs(90);

fn sample(name: &str) -> String {
    let path = repo_root().join("examples/load-forecasting/samples").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The quick models' folder, shared by the tests of this file (the first worker trains, under a lock).
fn small_models() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("python-forecasting-small-models")
}

async fn start(python: &std::path::Path, workers: usize) -> PythonServer {
    let models = small_models();
    let mut server = PythonServer::start(
        SERVICE,
        python,
        workers,
        &[
            ("PYTHON_FORECASTING_MODELS", models.to_str().unwrap()),
            ("PYTHON_FORECASTING_TRAIN", "small"),
        ],
    );
    server.wait_ready(READY_TIMEOUT).await;
    server
}

async fn post(url: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}/process"))
        .json(body)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forecasts_a_shipped_month_with_every_model() {
    let Some(python) = forecasting_python().filter(|_| serves_python()) else {
        return;
    };
    let server = start(&python, 2).await;
    let csv = sample("2019-01.csv");
    let request = forecast_request(&csv, &["LR", "SVR", "RF"]);
    let (status, answer) = post(&server.url, &request).await;
    assert_eq!(status, 200, "{answer}\n{}", server.log());

    let truth: HashMap<&str, f64> = request["time"]
        .as_array()
        .unwrap()
        .iter()
        .zip(request["energy"].as_array().unwrap())
        .map(|(t, e)| (t.as_str().unwrap(), e.as_f64().unwrap()))
        .collect();
    let forecasts = answer["forecasts"].as_array().unwrap();
    let models: Vec<&str> = forecasts.iter().map(|f| f["model"].as_str().unwrap()).collect();
    assert_eq!(models, ["LR", "SVR", "RF"], "in the requested order");
    for forecast in forecasts {
        let model = forecast["model"].as_str().unwrap();
        let (time, energy) = (
            forecast["time"].as_array().unwrap(),
            forecast["energy"].as_array().unwrap(),
        );
        // 744 hours in: a forecast for every hour from the 24th on, each for the hour a day later.
        assert_eq!((time.len(), energy.len()), (721, 721), "{model}");
        assert_eq!(
            time[0], "2019-01-02T23:00:00Z",
            "{model}: stamped 24 h after hour 24, in the input's form"
        );
        assert_eq!(time[720], "2019-02-01T23:00:00Z", "{model}");
        let (mut sum, mut hours) = (0.0, 0);
        for (t, e) in time.iter().zip(energy) {
            let e = e.as_f64().unwrap();
            assert!((20_000.0..120_000.0).contains(&e), "{model}: {e} MW at {t}");
            if let Some(measured) = truth.get(t.as_str().unwrap()) {
                sum += ((measured - e) / measured).abs();
                hours += 1;
            }
        }
        // The forecasts of hours 47..=743 fall inside the month, where the load is known.
        assert_eq!(hours, 697, "{model}");
        let mape = 100.0 * sum / f64::from(hours);
        assert!(mape < 15.0, "{model}: MAPE {mape:.1} % on January 2019");
    }

    // Another form of timestamps comes back in that form.
    let naive: Vec<Value> = request["time"].as_array().unwrap()[..30]
        .iter()
        .map(|t| json!(t.as_str().unwrap().replace('T', " ").trim_end_matches('Z')))
        .collect();
    let body = json!({"models": ["LR"], "time": naive, "energy": request["energy"].as_array().unwrap()[..30]});
    let (status, answer) = post(&server.url, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["forecasts"][0]["time"][0], "2019-01-02 23:00:00");
}

/// Requests the Rust example refuses with 422; the Python example must answer each the same way.
fn bad_requests() -> Vec<(&'static str, Value)> {
    let month = forecast_request(&sample("2019-01.csv"), &["LR"]);
    let time: Vec<Value> = month["time"].as_array().unwrap()[..30].to_vec();
    let energy: Vec<Value> = month["energy"].as_array().unwrap()[..30].to_vec();
    let with = |key: &str, value: Value| {
        let mut body = json!({"models": ["LR"], "time": time.clone(), "energy": energy.clone()});
        body[key] = value;
        body
    };
    let mut gap = time.clone();
    gap.remove(12);
    let mut swapped = time.clone();
    swapped.swap(5, 6);
    let mut unparsable = time.clone();
    unparsable[3] = json!("yesterday");
    let mut missing = energy.clone();
    missing[7] = Value::Null;
    vec![
        ("fewer than 24 hours", with("time", json!(time[..10])).clone()),
        ("fewer than 24 hours, energy too", {
            let mut body = with("time", json!(time[..10]));
            body["energy"] = json!(energy[..10]);
            body
        }),
        ("energy of another length", with("energy", json!(energy[..29]))),
        ("an unknown model", with("models", json!(["LR", "XGB"]))),
        ("no model", with("models", json!([]))),
        ("a model twice", with("models", json!(["RF", "RF"]))),
        ("an unparsable timestamp", with("time", json!(unparsable))),
        ("rows out of order", with("time", json!(swapped))),
        ("a gap", {
            let mut body = with("time", json!(gap));
            body["energy"] = json!(energy[..29]);
            body
        }),
        ("a missing load", with("energy", json!(missing))),
        ("an unknown field", with("colour", json!("red"))),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_what_the_rust_example_refuses_with_the_same_answer() {
    let Some(python) = forecasting_python().filter(|_| serves_python()) else {
        return;
    };
    let server = start(&python, 1).await;

    // The Rust example on tiny models of its own, in this process.
    let rust_models =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("rust-forecasting-{}", std::process::id()));
    load_forecasting::train::small_models(&rust_models).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rust_url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(Server::new(LoadForecaster::new(&rust_models)).serve_with_shutdown(listener, std::future::pending()));
    let client = Client::new(rust_url.clone()).unwrap();
    while client.ready().await.is_err() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let (status, error) = post(&server.url, &bad_requests()[0].1).await;
    assert_eq!(
        (status, error["field"].as_str()),
        (422, Some("time")),
        "too short names `time`: {error}"
    );
    for (what, body) in bad_requests() {
        let (python_status, python_error) = post(&server.url, &body).await;
        let (rust_status, rust_error) = post(&rust_url, &body).await;
        assert_eq!(rust_status, 422, "{what}: the Rust example answers {rust_error}");
        assert_eq!(
            (python_status, &python_error),
            (rust_status, &rust_error),
            "{what}: the Python example answers differently from the Rust example"
        );
    }
    let _ = std::fs::remove_dir_all(&rust_models);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_examples_gui_description_runs_against_the_python_service() {
    let Some(python) = forecasting_python().filter(|_| serves_python()) else {
        return;
    };
    let server = start(&python, 1).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gui = format!("http://{}", listener.local_addr().unwrap());
    let web = WebUi::new(forecast_ui()).service_url(server.url.clone());
    tokio::spawn(web.serve_with_shutdown(listener, std::future::pending()));
    let http = reqwest::Client::new();
    while http.get(format!("{gui}/health/live")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let form = reqwest::multipart::Form::new()
        .text("models", "LR")
        .text("models", "RF")
        .part(
            "csv",
            reqwest::multipart::Part::bytes(sample("2019-03.csv").into_bytes()).file_name("2019-03.csv"),
        );
    let response = http
        .post(format!("{gui}/ui/submit"))
        .multipart(form)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{answer}\n{}", server.log());
    // The answer no longer echoes the request; the series below show the models it asked for.
    assert!(answer.get("request").is_none(), "{answer}");

    let outputs: HashMap<&str, &Value> = answer["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["name"].as_str().unwrap(), o))
        .collect();
    let plot = &outputs["forecast"];
    assert_eq!(plot["kind"], "plot", "{plot}");
    let series: Vec<&str> = plot["value"]["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(series, ["measured", "LR", "RF"], "{plot}");
    assert_eq!(plot["value"]["series"][1]["x"].as_array().unwrap().len(), 721);
    let scores = &outputs["scores"]["value"];
    assert_eq!(scores["rows"][0][3], "697", "{scores}");
    for row in scores["rows"].as_array().unwrap() {
        let mape: f64 = row[2].as_str().unwrap().parse().unwrap();
        assert!(mape < 15.0, "{row}");
    }
    assert_eq!(outputs["download"]["kind"], "file", "{answer}");

    // The GUI's own refusal, before the service is asked: a file of fewer than 24 hours.
    let short: String = sample("2019-03.csv")
        .lines()
        .take(11)
        .map(|l| format!("{l}\n"))
        .collect();
    let form = reqwest::multipart::Form::new().text("models", "LR").part(
        "csv",
        reqwest::multipart::Part::bytes(short.into_bytes()).file_name("short.csv"),
    );
    let response = http
        .post(format!("{gui}/ui/submit"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let error: Value = response.json().await.unwrap();
    assert_eq!((status, error["field"].as_str()), (422, Some("csv")), "{error}");

    // The Python model's own refusal, which the GUI lets through: 30 hours in order with one missing.
    // The SDK's `InvalidInput(field="time[12]")` comes back on the CSV input that filled `time`.
    let gap: String = sample("2019-03.csv")
        .lines()
        .take(32)
        .enumerate()
        .filter(|(i, _)| *i != 13)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let form = reqwest::multipart::Form::new().text("models", "LR").part(
        "csv",
        reqwest::multipart::Part::bytes(gap.into_bytes()).file_name("gap.csv"),
    );
    let response = http
        .post(format!("{gui}/ui/submit"))
        .multipart(form)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let error: Value = response.json().await.unwrap();
    assert_eq!((status, error["field"].as_str()), (422, Some("csv")), "{error}");
    assert!(error["error"].as_str().unwrap().starts_with("`time[12]`"), "{error}");
}
