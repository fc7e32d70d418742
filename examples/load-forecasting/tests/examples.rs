//! The forecasting page's examples to click (issue 18 item 1): three shipped months (winter, summer,
//! December with its holidays) listed under the form; a click fills the CSV upload and the model
//! checkboxes, and Submit forecasts that month, so a visitor needs no file of their own.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use easymlserve::prelude::*;
use easymlserve_testkit::{Browser, serve};
use load_forecasting::service::LoadForecaster;
use load_forecasting::train::small_models;
use load_forecasting::ui::forecast_ui;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_months_to_click_and_a_click_fills_the_form() {
    let models = std::env::temp_dir().join(format!("load-forecasting-examples-{}", std::process::id()));
    small_models(&models).unwrap();
    let url = serve(Server::new(LoadForecaster::new(models)).with_ui(forecast_ui())).await;

    let browser = Browser::start(1280, 1600).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    assert_eq!(browser.count("#examples .example").await, 3);
    let list = browser.text("#examples").await;
    for month in ["Winter: January 2019", "Summer: July 2019", "Holidays: December 2019"] {
        assert!(list.contains(month), "{month} not in {list:?}");
    }
    // Leave out the SVR by hand first: the example chooses all three models again.
    browser.click("#in-models-1").await;
    browser.click("#example-2").await;
    browser.wait_for_text("#status", "press Submit").await;
    assert_eq!(browser.text("#field-csv .file-name").await, "2019-12.csv");
    browser.wait_for_text("#field-csv .preview", "744 rows").await;
    let checked = "return [0, 1, 2].map((i) => document.getElementById(`in-models-${i}`).checked)";
    assert_eq!(browser.js(checked).await, serde_json::json!([true, true, true]));
    browser.click("#submit").await;
    browser.wait_for_text("#status", "Done in").await;
    let legend = browser.text("#out-forecast").await;
    for name in ["measured", "LR", "SVR", "RF"] {
        assert!(legend.contains(name), "{name} not in {legend:?}");
    }
    browser.close().await;
}
