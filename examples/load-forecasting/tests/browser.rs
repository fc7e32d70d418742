//! The forecasting GUI in headless Chromium: upload a shipped month, choose two models, submit, and
//! see the forecast plot, the error plot with each model's MAE, the score table and the download; then
//! the page's screenshots in both themes.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::PathBuf;

use easymlserve::prelude::*;
use easymlserve_testkit::{Browser, serve};
use load_forecasting::service::LoadForecaster;
use load_forecasting::train::small_models;
use load_forecasting::ui::forecast_ui;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_a_month_choose_models_and_see_forecasts_and_errors() {
    let models = std::env::temp_dir().join(format!("load-forecasting-browser-{}", std::process::id()));
    small_models(&models).unwrap();
    let url = serve(Server::new(LoadForecaster::new(models)).with_ui(forecast_ui())).await;

    let browser = Browser::start(1280, 1600).await;
    browser.open_gui(&format!("{url}/ui/")).await;
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
    // The README's pictures of this page (written with EASYMLSERVE_SCREENSHOTS set).
    browser.screenshots_light_and_dark("forecasting", 1280).await;
    browser.close().await;
}
