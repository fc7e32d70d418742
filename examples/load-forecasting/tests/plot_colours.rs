//! Issue 18 item 2 in headless Chromium: a model keeps its colour by name across the forecast and
//! error plots of one result (Okabe-Ito palette, first appearance), a new result starts the palette
//! again, a legend entry hides and shows its series (by mouse and keyboard), and a 100,000-point series
//! is thinned to the pixel width with its extremes kept while hover still reads the full data. (How
//! long those draws take is measured, not tested: bench/plot-draw, BENCHMARKS.md.)

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::PathBuf;

use easymlserve::prelude::*;
use easymlserve::ui::PALETTE;
use easymlserve_testkit::{Browser, serve};
use fantoccini::actions::{InputSource, MouseActions, PointerAction};
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
             y[12345] = 500; y[67890] = -500; window.longY = y;\
             const box = document.createElement('div'); box.id = 'long'; box.style.width = '800px';\
             box.style.marginLeft = '0.5px';\
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

    // Hover reads the full series, not the thinned line: a real pointer at 30 % of the plot shows the
    // point nearest to the x under it (one of ~140 per pixel column) and that point's own value. The
    // box sits half a pixel off, so the pointer is mid-column, where the line has no vertex.
    let at = browser
        .js(
            "const hit = document.querySelector('#long svg rect[cursor=crosshair]');\
             hit.scrollIntoView({ block: 'center' }); const r = hit.getBoundingClientRect();\
             return [Math.round(r.left + r.width * 0.3), Math.round(r.top + r.height / 2)];",
        )
        .await;
    let (px, py) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
    let hover = MouseActions::new("mouse".to_owned()).then(PointerAction::MoveTo {
        duration: None,
        x: px,
        y: py,
    });
    browser.client.perform_actions(hover).await.unwrap();
    let tip = browser.wait_for_text("#long .tooltip", "wave:").await;
    let expected = browser
        .js(&format!(
            "const svg = document.querySelector('#long svg'), box = svg.getBoundingClientRect();\
             const clip = document.querySelector('#long svg clipPath rect');\
             const local = ({px} - box.left) / box.width * svg.viewBox.baseVal.width;\
             const x = (local - Number(clip.getAttribute('x'))) / Number(clip.getAttribute('width')) * 99999;\
             const i = Math.round(x), f = window.EmsPlot.formatNumber;\
             const at = Number(clip.getAttribute('x')) + i / 99999 * Number(clip.getAttribute('width'));\
             const d = document.querySelector('#long path[data-series]').getAttribute('d');\
             const gap = Math.min(...[...d.matchAll(/[ML]([-0-9.]+),/g)].map((m) => Math.abs(Number(m[1]) - at)));\
             return {{ i, gap, head: `i = ${{f(i)}}`, row: `wave: ${{f(window.longY[i])}}` }};"
        ))
        .await;
    eprintln!("hover at {px}: {tip:?}, expected {expected}");
    assert!(
        expected["gap"].as_f64().unwrap() > 0.2,
        "the hovered point is not a vertex of the drawn line: {expected}"
    );
    assert!(
        tip.contains(expected["head"].as_str().unwrap()),
        "the tooltip names the nearest x: {tip:?}, expected {expected}"
    );
    assert!(
        tip.contains(expected["row"].as_str().unwrap()),
        "the tooltip shows that point's value: {tip:?}, expected {expected}"
    );
    browser.close().await;
}
