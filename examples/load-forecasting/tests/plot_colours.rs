//! Issue 18 item 2 in headless Chromium: a model keeps its colour by name across the forecast and
//! error plots of one result (Okabe-Ito palette, first appearance), a new result starts the palette
//! again, a legend entry hides and shows its series (by mouse and keyboard), and a 100,000-point series
//! is thinned to the pixel width with its extremes kept.

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
    // ... and by keyboard: Enter on the focused entry shows it again.
    browser
        .js(&format!("document.querySelector('{lr_entry}').focus();"))
        .await;
    let focused = browser.client.active_element().await.unwrap();
    focused.send_keys("\u{E007}").await.unwrap();
    assert_eq!(browser.count("#out-forecast svg path[data-series]").await, 3);

    // A new result starts the palette again: with SVR alone it is second after measured.
    browser.click("#in-models-0").await;
    submit(&browser).await;
    assert_eq!(browser.count("#out-forecast svg path[data-series]").await, 2);
    assert_eq!(stroke(&browser, "forecast", "SVR").await, PALETTE[1]);
    assert_eq!(stroke(&browser, "error", "SVR").await, PALETTE[1]);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_series_is_thinned_to_the_pixel_width_keeping_its_extremes() {
    let models = std::env::temp_dir().join(format!("load-forecasting-long-{}", std::process::id()));
    small_models(&models).unwrap();
    let url = serve(Server::new(LoadForecaster::new(models)).with_ui(forecast_ui())).await;
    let browser = Browser::start(1280, 1600).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    // The page's own plot.js draws 100,000 points of a small wave with one spike up and one down,
    // each a single point.
    let drawn = browser
        .js("const n = 100000, x = [], y = [];\
             for (let i = 0; i < n; i++) { x.push(i); y.push(Math.sin(i / 500) * 10); }\
             y[12345] = 500; y[67890] = -500;\
             const box = document.createElement('div'); box.id = 'long'; box.style.width = '800px';\
             document.body.appendChild(box);\
             window.EmsPlot.create(box, { title: 'long', x_label: 'i', y_label: 'v', x_type: 'number',\
               series: [{ name: 'wave', kind: 'line', x, y }] });\
             const d = box.querySelector('path[data-series]').getAttribute('d');\
             const ys = [...d.matchAll(/[ML][-0-9.]+,([-0-9.]+)/g)].map((m) => Number(m[1]));\
             const plot = box.querySelector('svg clipPath rect');\
             return { points: ys.length, span: Math.max(...ys) - Math.min(...ys),\
                      width: Number(plot.getAttribute('width')), height: Number(plot.getAttribute('height')) };")
        .await;
    eprintln!("100,000 points drawn as {drawn}");
    let points = drawn["points"].as_f64().unwrap();
    let width = drawn["width"].as_f64().unwrap();
    let height = drawn["height"].as_f64().unwrap();
    assert!(
        points <= 4.0 * (width + 2.0),
        "{points} points drawn for {width} pixels"
    );
    assert!(points >= width, "{points} points drawn for {width} pixels");
    // Both one-point spikes survive: the line spans the data range, which the y axis pads by 5%
    // on each side, so it covers 1/1.1 of the plot's height.
    let span = drawn["span"].as_f64().unwrap();
    assert!((span - height / 1.1).abs() < 1.5, "line spans {span} of {height} px");
    browser.close().await;
}
