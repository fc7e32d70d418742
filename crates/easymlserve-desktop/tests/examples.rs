//! Examples to click in the desktop GUI (issue 18 item 1), driven headless with egui_kittest against
//! real servers on 127.0.0.1: the forecasting window's three months fill the CSV input (with its
//! preview) and the model checkboxes, and Submit forecasts the month; echo's two texts, computed at
//! start with `cache_examples`, show their echo on a click with no submit.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::sync::Arc;
use std::time::{Duration, Instant};

use easymlserve_desktop::DesktopApp;
use easymlserve_server::Server;
use easymlserve_ui::{OutputValue, SchemaUi, Ui};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

fn harness(app: DesktopApp) -> Harness<'static, DesktopApp> {
    Harness::builder()
        .with_size(egui::vec2(1200.0, 1600.0))
        .build_ui_state(|ui, app: &mut DesktopApp| app.ui(ui), app)
}

/// The text in the field labelled `label`.
fn value_of(harness: &Harness<'_, DesktopApp>, label: &str) -> String {
    let node = harness.get_by_label(label);
    node.accesskit_node().value().unwrap_or_default().to_string()
}

/// Steps the window until `done` holds of it (the window keeps drawing meanwhile).
fn step_until(harness: &mut Harness<'_, DesktopApp>, what: &str, done: impl Fn(&DesktopApp) -> bool) {
    let started = Instant::now();
    harness.step();
    while !done(harness.state()) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} not within 60 s; status {:?}",
            harness.state().status()
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(3);
}

#[test]
fn a_month_to_click_fills_the_file_and_the_models_and_forecasts() {
    let models = std::env::temp_dir().join(format!("desktop-examples-{}", std::process::id()));
    load_forecasting::train::small_models(&models).unwrap();
    let service = load_forecasting::service::LoadForecaster::new(models);
    let (url, _server) = easymlserve_testkit::serve_blocking(Server::new(service));
    let ui = load_forecasting::ui::forecast_ui();
    let mut harness = harness(DesktopApp::new(Arc::new(ui), url, None));
    harness.run_steps(2);
    for month in ["Winter: January 2019", "Summer: July 2019", "Holidays: December 2019"] {
        harness.get_by_label(month);
    }
    // Leave out the SVR by hand first: the example chooses all three models again.
    harness.get_by_label("SVR").click();
    harness.run_steps(2);
    harness.get_by_label("Holidays: December 2019").click();
    harness.run_steps(3);
    let status = harness.state().status().to_owned();
    assert_eq!(status, "Filled with “Holidays: December 2019”; press Submit.");
    let csv_label = load_forecasting::ui::forecast_ui()
        .inputs()
        .iter()
        .find(|i| i.name == "csv")
        .unwrap()
        .label
        .clone();
    let path = value_of(&harness, &format!("Path of {csv_label}"));
    assert_eq!(path, "2019-12.csv", "the file's name is shown");
    harness.get_by_label("744 rows in the file");
    for model in ["LR", "SVR", "RF"] {
        let checked = harness.get_by_label(model).accesskit_node().toggled();
        assert_eq!(checked, Some(egui::accesskit::Toggled::True), "{model} is chosen");
    }

    harness.get_by_label("Submit").click();
    step_until(&mut harness, "the forecast", |app| {
        !app.is_busy() && app.status().starts_with("Done")
    });
    assert_eq!(harness.state().banner(), None);
    let Some(OutputValue::Plot(plot)) = harness.state().outputs().get("forecast") else {
        panic!("no forecast plot: {:?}", harness.state().outputs());
    };
    let names: Vec<&str> = plot.series.iter().map(|s| s.name.as_str()).collect();
    for name in ["LR", "SVR", "RF"] {
        assert!(names.contains(&name), "{name} not in {names:?}");
    }
}

#[test]
fn a_cached_text_shows_its_echo_on_a_click() {
    let (url, _server) = easymlserve_testkit::serve_blocking(Server::new(echo::Echo));
    let ui = SchemaUi::for_service(&echo::Echo).unwrap();
    let app = DesktopApp::new(Arc::new(ui), url, None).cache_examples();
    let mut harness = harness(app);
    harness.run_steps(2);
    harness.get_by_label("Click one to fill the form and see its result.");
    harness.get_by_label("Example 2").click();
    step_until(&mut harness, "the cached echo", |app| {
        app.status().contains("computed at start")
    });
    assert_eq!(harness.state().status(), "Result of “Example 2” (computed at start).");
    assert_eq!(value_of(&harness, "Text *"), "Karlsruhe! ");
    let Some(OutputValue::Text(echoed)) = harness.state().outputs().get("text") else {
        panic!("no echo: {:?}", harness.state().outputs());
    };
    assert_eq!(echoed, "Karlsruhe! Karlsruhe! ");
    assert!(!harness.state().is_busy(), "no request was sent for the click");
}
