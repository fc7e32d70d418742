//! The forecasting service's GUI generated from its types alone (no `ForecastUi`) in headless Chromium:
//! the request's `x-easymlserve-widget` overrides give one time-series CSV upload that fills `time` and
//! `energy`, and the model checkboxes with all three chosen; the response's `forecasts` (records of
//! model, time, energy) are drawn as one plot line per chosen model.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::PathBuf;

use easymlserve::prelude::*;
use easymlserve_testkit::{Browser, serve};
use load_forecasting::service::LoadForecaster;
use load_forecasting::train::small_models;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_gui_uploads_a_csv_into_two_fields_and_plots_each_model() {
    let models = std::env::temp_dir().join(format!("load-forecasting-generated-{}", std::process::id()));
    small_models(&models).unwrap();
    let url = serve(Server::new(LoadForecaster::new(models)).with_generated_ui()).await;
    let browser = Browser::start(1280, 1400).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    assert_eq!(
        browser.count("#in-time").await + browser.count("#in-energy").await,
        0,
        "filled by the CSV"
    );
    assert_eq!(browser.text("#field-csv label").await, "Load CSV *");
    assert_eq!(
        browser
            .js("return document.getElementById('field-csv').dataset.kind")
            .await,
        "time_series_csv_file"
    );
    for i in 0..3 {
        let checked = browser
            .js(&format!("return document.getElementById('in-models-{i}').checked"))
            .await;
        assert_eq!(checked, true, "model {i} chosen by default");
    }
    browser.click("#in-models-1").await;
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/2019-01.csv");
    browser.upload("csv", &sample).await;
    browser.wait_for_text("#field-csv .preview", "744 rows").await;
    browser.click("#submit").await;
    browser.wait_for_text("#status", "Done in").await;
    assert_eq!(browser.count("#out-forecasts svg path").await, 2, "LR and RF");
    let legend = browser.text("#out-forecasts").await;
    assert!(
        legend.contains("LR") && legend.contains("RF") && !legend.contains("SVR"),
        "{legend:?}"
    );
    browser.close().await;
}
