//! The service over real HTTP on a loopback port, fed the shipped monthly request files.

use std::time::Instant;

use load_forecasting::service::ForecastResponse;
use serde_json::{Value, json};

use crate::util::{request_from_csv, sample, serve_tiny};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shipped_month_gets_a_day_ahead_forecast_per_hour_from_every_model() {
    let url = serve_tiny().await;
    let http = reqwest::Client::new();
    let body = request_from_csv(&sample("2019-01.csv"), &["LR", "SVR", "RF"]);
    let started = Instant::now();
    let answer = http.post(format!("{url}/process")).json(&body).send().await.unwrap();
    let took = started.elapsed();
    assert_eq!(answer.status(), 200, "{}", answer.text().await.unwrap());
    let response: ForecastResponse = answer.json().await.unwrap();
    assert_eq!(response.forecasts.len(), 3);
    let names: Vec<&str> = response.forecasts.iter().map(|f| f.model.name()).collect();
    assert_eq!(names, ["LR", "SVR", "RF"], "in the requested order");
    let truth: Vec<f64> = body["energy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    for forecast in &response.forecasts {
        // 744 hours in January: forecasts from the 24th hour on, each stamped a day later.
        assert_eq!(forecast.time.len(), 744 - 23);
        assert_eq!(forecast.energy.len(), 744 - 23);
        assert_eq!(forecast.time[0], "2019-01-02T23:00:00Z");
        assert_eq!(forecast.time.last().unwrap(), "2019-02-01T23:00:00Z");
        // Hour i of the forecast is input hour i + 47; compare where both exist.
        let overlap = 744 - 47;
        let mae: f64 = (0..overlap)
            .map(|i| (forecast.energy[i] - truth[i + 47]).abs())
            .sum::<f64>()
            / overlap as f64;
        assert!(
            mae < 6_000.0,
            "{}: MAE {mae:.0} MW is not a forecast, even for a tiny model",
            forecast.model.name()
        );
    }
    eprintln!("744 hours, three tiny models: answered in {took:?} (debug build)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forecasts_are_stamped_in_the_format_of_the_input() {
    let url = serve_tiny().await;
    let body = request_from_csv(&sample("2020-02.csv"), &["RF"]);
    let mut time: Vec<String> = body["time"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().replace('T', " ").replace('Z', ""))
        .collect();
    time.truncate(48);
    let energy = body["energy"].as_array().unwrap()[..48].to_vec();
    let answer: Value = reqwest::Client::new()
        .post(format!("{url}/process"))
        .json(&json!({"models": ["RF"], "time": time, "energy": energy}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stamps = answer["forecasts"][0]["time"].as_array().unwrap();
    assert_eq!(stamps.len(), 25);
    assert_eq!(stamps[0], "2020-02-02 23:00:00");
    assert_eq!(stamps[24], "2020-02-03 23:00:00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_carry_an_example_that_works() {
    let url = serve_tiny().await;
    let http = reqwest::Client::new();
    let openapi: Value = http
        .get(format!("{url}/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let example = &openapi["paths"]["/process"]["post"]["requestBody"]["content"]["application/json"]["example"];
    assert_eq!(example["time"].as_array().unwrap().len(), 26);
    let answer = http.post(format!("{url}/process")).json(example).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let response: Value = answer.json().await.unwrap();
    assert_eq!(response["forecasts"][2]["energy"].as_array().unwrap().len(), 3);
}
