//! Times one co-hosted GUI call of a typed service through the server's in-process caller, the two
//! ways the web runner has done it (issue 17 item 5), on the same engine, validation and worker pool:
//!
//! - before: the request Value cloned (kept for the echo), `ServiceCaller::call` (the model's JSON
//!   bytes parsed into a `serde_json::Value`), then `DynUi::present` (that Value read into the Ui's
//!   response type), and the request echoed (serialised into the answer);
//! - after: the request moved into `ServiceCaller::call_bytes` (the bytes unparsed), then
//!   `DynUi::present_bytes` (read once, straight into the response type); no echo.
//!
//! The service answers a forecast-like response of `--points` hourly values with timestamps.
//! Run: `cargo run --release -p cohosted-submit -- [points] [rounds]`.

use std::sync::Arc;
use std::time::Instant;

use easymlserve::core::{Service, ServiceCaller, ServiceError};
use easymlserve::server::{AppState, ServerConfig, TypedBackend};
use easymlserve::ui::{DynUi, Input, InputValue, InputValues, Output, OutputValue, OutputValues, Ui, UiError};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JsonSchema)]
struct Request {
    start: String,
    hours: u32,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Point {
    time: String,
    load_kw: f64,
    lower_kw: f64,
    upper_kw: f64,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Response {
    points: Vec<Point>,
}

struct Forecast;

impl Service for Forecast {
    type Request = Request;
    type Response = Response;
    fn process(&self, request: Request) -> Result<Response, ServiceError> {
        let points = (0..request.hours)
            .map(|h| {
                let load_kw = 400.0 + 80.0 * (f64::from(h) / 24.0 * std::f64::consts::TAU).sin();
                Point {
                    time: format!("{}T{:02}:00:00Z+{}d", request.start, h % 24, h / 24),
                    load_kw,
                    lower_kw: load_kw * 0.9,
                    upper_kw: load_kw * 1.1,
                }
            })
            .collect();
        Ok(Response { points })
    }
}

struct ForecastUi;

impl Ui for ForecastUi {
    type Request = Request;
    type Response = Response;
    fn inputs(&self) -> Vec<Input> {
        vec![Input::number("hours", "Hours", true)]
    }
    fn outputs(&self) -> Vec<Output> {
        vec![Output::number("peak", "Peak")]
    }
    fn prepare_request(&self, inputs: &InputValues) -> Result<Request, UiError> {
        Ok(Request {
            start: "2026-12-04".to_owned(),
            hours: inputs.number("hours")?.unwrap_or(24.0) as u32,
        })
    }
    fn process_response(&self, _: &Request, response: Response) -> Result<OutputValues, UiError> {
        let peak = response.points.iter().map(|p| p.upper_kw).fold(0.0, f64::max);
        Ok(OutputValues::new().with("peak", OutputValue::Number(peak)))
    }
}

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u32>().unwrap_or(0));
    let points = args.next().filter(|&n| n > 0).unwrap_or(8760);
    let rounds = args.next().filter(|&n| n > 0).unwrap_or(200);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("no runtime: {e}"));
    runtime.block_on(run(points, rounds));
}

async fn run(points: u32, rounds: u32) {
    let config = ServerConfig::default();
    let state = AppState::new(Box::new(TypedBackend::new(Forecast)), &config, None);
    state.load().await.unwrap_or_else(|e| panic!("not loaded: {e}"));
    let ui: Arc<dyn DynUi> = Arc::new(ForecastUi);
    let values = InputValues::new().with("hours", InputValue::Number(f64::from(points)));

    let mut best = [f64::MAX; 2];
    let mut peaks = [0.0; 2];
    // Alternate the two ways, several passes, and keep each way's best mean per call.
    for _ in 0..5 {
        for (way, slot) in best.iter_mut().enumerate() {
            let started = Instant::now();
            for _ in 0..rounds {
                let mut prepared = ui.prepare(&values).unwrap_or_else(|e| panic!("{e}"));
                let shown = if way == 0 {
                    let echo = prepared.json.clone();
                    let answer = state
                        .call(prepared.json.clone())
                        .await
                        .unwrap_or_else(|e| panic!("{e}"));
                    let shown = ui.present(prepared, answer).unwrap_or_else(|e| panic!("{e}"));
                    std::hint::black_box(serde_json::to_vec(&echo).unwrap_or_default());
                    shown
                } else {
                    let request = std::mem::take(&mut prepared.json);
                    let answer = state.call_bytes(request).await.unwrap_or_else(|e| panic!("{e}"));
                    ui.present_bytes(prepared, &answer).unwrap_or_else(|e| panic!("{e}"))
                };
                if let Some(OutputValue::Number(peak)) = shown.get("peak") {
                    peaks[way] = *peak;
                }
            }
            let mean_us = started.elapsed().as_secs_f64() * 1e6 / f64::from(rounds);
            *slot = slot.min(mean_us);
        }
    }
    assert_eq!(peaks[0], peaks[1], "both ways show the same answer");
    println!("points={points} rounds={rounds}");
    println!("before (Value, then typed; echo): {:.1} us per call", best[0]);
    println!("after  (bytes read once, no echo): {:.1} us per call", best[1]);
    println!("saved: {:.1} %", 100.0 * (1.0 - best[1] / best[0]));
}
