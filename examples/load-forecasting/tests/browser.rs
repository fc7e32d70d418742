//! The forecasting GUI in headless Chromium: upload a shipped month, choose two models, submit, and
//! see the forecast plot, the error plot with each model's MAE, the score table and the download.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod driver;

use std::path::PathBuf;
use std::time::Duration;

use driver::Browser;
use easymlserve::prelude::*;
use load_forecasting::models::FitSettings;
use load_forecasting::service::LoadForecaster;
use load_forecasting::train::{TrainOptions, train};
use load_forecasting::ui::ForecastUi;

/// Tiny models from six weeks of the shipped data, saved in a temp folder.
fn tiny_models() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("load-forecasting-browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let all = load_forecasting::data::read_series(&root.join("data/german-load-synthetic-2015-2020.csv")).unwrap();
    let new_year_2019 = ((1_546_300_800_000 - all.start_ms) / 3_600_000) as usize;
    let start = new_year_2019 - 24 * 42; // six weeks before 2019, one week after
    let series = load_forecasting::data::HourlySeries {
        start_ms: all.time_ms(start),
        load: all.load[start..start + 24 * 49].to_vec(),
    };
    let mut options = TrainOptions::new(&dir);
    options.fit = FitSettings {
        trees: 10,
        ..FitSettings::default()
    };
    options.progress = false;
    train(&series, &options).unwrap();
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_a_month_choose_models_and_see_forecasts_and_errors() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = Server::new(LoadForecaster::new(tiny_models())).with_ui(ForecastUi);
    tokio::spawn(server.serve_with_shutdown(listener, std::future::pending()));
    let client = Client::new(url.clone()).unwrap();
    while client.ready().await.is_err() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let browser = Browser::start(1280, 1600).await;
    browser.open(&format!("{url}/ui/")).await;
    assert_eq!(browser.text("#title").await, "Electrical load forecasting");
    // All three models are chosen by default; leave out the SVR.
    browser.click("#in-models-1").await;
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/2019-01.csv");
    browser.upload("csv", &sample).await;
    browser.wait_for_text("#field-csv .preview", "744 rows").await;
    browser.click("#submit").await;
    browser.wait_for_text("#status", "Done in").await;

    assert_eq!(
        browser.count("#out-forecast svg path").await,
        3,
        "measured load, LR and RF"
    );
    let forecast_legend = browser.text("#out-forecast").await;
    for name in ["measured", "LR", "RF"] {
        assert!(forecast_legend.contains(name), "{name} not in {forecast_legend:?}");
    }
    assert!(
        !forecast_legend.contains("SVR"),
        "SVR was not chosen: {forecast_legend:?}"
    );
    let error_legend = browser.text("#out-error").await;
    assert!(error_legend.contains("LR (MAE "), "{error_legend:?}");
    assert!(error_legend.contains("RF (MAE "), "{error_legend:?}");
    assert_eq!(browser.count("#out-scores tbody tr").await, 2);
    let scores = browser.text("#out-scores tbody").await;
    assert!(scores.contains("697"), "hours compared: {scores:?}");
    assert_eq!(
        browser.text("#out-download a.file-download").await,
        "Download forecast.csv"
    );
    if std::env::var_os("EASYMLSERVE_SCREENSHOTS").is_some() {
        let shot = browser.client.screenshot().await.unwrap();
        std::fs::write(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("gui.png"), shot).unwrap();
    }
    browser.close().await;
}
