//! Issue 18 item 2 in headless Chromium: a model keeps its colour by name across the forecast and
//! error plots of one result (Okabe-Ito palette, first appearance), a new result starts the palette
//! again, and a legend entry hides and shows its series.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::PathBuf;

use easymlserve::prelude::*;
use easymlserve::ui::PALETTE;
use easymlserve_testkit::{Browser, serve};
use load_forecasting::service::LoadForecaster;
use load_forecasting::train::small_models;
use load_forecasting::ui::forecast_ui;

/// The `stroke` of the line whose legend name is `name` or starts with `name (` in output `out`.
async fn stroke(browser: &Browser, out: &str, name: &str) -> String {
    let script = format!(
        "const p = [...document.querySelectorAll('#out-{out} svg path[data-series]')]\
         .find((p) => p.dataset.series === '{name}' || p.dataset.series.startsWith('{name} ('));\
         return p ? p.getAttribute('stroke') : null;"
    );
    let value = browser.js(&script).await;
    value
        .as_str()
        .unwrap_or_else(|| panic!("no line {name} in {out}"))
        .to_owned()
}

async fn submit(browser: &Browser) {
    browser.js("document.querySelector('#status').textContent = '';").await;
    browser.click("#submit").await;
    browser.wait_for_text("#status", "Done in").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_has_one_colour_in_every_plot_of_a_result() {
    let models = std::env::temp_dir().join(format!("load-forecasting-colours-{}", std::process::id()));
    small_models(&models).unwrap();
    let url = serve(Server::new(LoadForecaster::new(models)).with_ui(forecast_ui())).await;

    let browser = Browser::start(1280, 1600).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    // LR and SVR; leave out the RF.
    browser.click("#in-models-2").await;
    let sample = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/2019-01.csv");
    browser.upload("csv", &sample).await;
    browser.wait_for_text("#field-csv .preview", "744 rows").await;
    submit(&browser).await;

    let lr_forecast = stroke(&browser, "forecast", "LR").await;
    let lr_error = stroke(&browser, "error", "LR").await;
    let svr_forecast = stroke(&browser, "forecast", "SVR").await;
    let svr_error = stroke(&browser, "error", "SVR").await;
    assert_eq!(lr_forecast, lr_error, "LR keeps its colour across plots");
    assert_eq!(svr_forecast, svr_error, "SVR keeps its colour across plots");
    assert_ne!(lr_forecast, svr_forecast);
    // First appearance on the page: measured, LR, SVR.
    assert_eq!(stroke(&browser, "forecast", "measured").await, PALETTE[0]);
    assert_eq!(lr_forecast, PALETTE[1]);
    assert_eq!(svr_forecast, PALETTE[2]);

    // The legend hides and shows a series.
    let lines = browser.count("#out-forecast svg path[data-series]").await;
    assert_eq!(lines, 3, "measured, LR and SVR");
    let lr_entry = "#out-forecast .legend button:nth-child(2)";
    assert!(browser.text(lr_entry).await.contains("LR"));
    browser.click(lr_entry).await;
    assert_eq!(browser.count("#out-forecast svg path[data-series]").await, 2);
    assert_eq!(
        browser
            .js(&format!(
                "return document.querySelector('{lr_entry}').getAttribute('aria-pressed');"
            ))
            .await,
        "false"
    );
    browser.click(lr_entry).await;
    assert_eq!(browser.count("#out-forecast svg path[data-series]").await, 3);

    // A new result starts the palette again: with SVR alone it is second after measured.
    browser.click("#in-models-0").await;
    submit(&browser).await;
    assert_eq!(browser.count("#out-forecast svg path[data-series]").await, 2);
    assert_eq!(stroke(&browser, "forecast", "SVR").await, PALETTE[1]);
    assert_eq!(stroke(&browser, "error", "SVR").await, PALETTE[1]);
    browser.close().await;
}
