//! The desktop window generated from a service's spec (`DesktopUi::generated()`, no `Ui` written), in
//! egui_kittest: echo's text box and its slider with the bounds and default of its attributes, and the
//! forecasting request without its `ForecastUi`: the CSV upload its override asks for (filling `time`
//! and `energy`), the model checkboxes all chosen, and a plot with one line per model after a submit.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::PathBuf;
use std::time::{Duration, Instant};

use easymlserve_core::Service;
use easymlserve_desktop::{DesktopApp, DesktopUi};
use easymlserve_server::Server;
use easymlserve_ui::OutputValue;
use egui::accesskit::{Role, Toggled};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

fn serve<S: Service>(service: S) -> (String, tokio::runtime::Runtime) {
    easymlserve_testkit::serve_blocking(Server::new(service))
}

fn generated_window(url: String) -> Harness<'static, DesktopApp> {
    let app = DesktopUi::generated().service_url(url).into_app().unwrap();
    Harness::builder()
        .with_size(egui::vec2(1200.0, 1600.0))
        .build_ui_state(|ui, app: &mut DesktopApp| app.ui(ui), app)
}

fn wait_for_answer(harness: &mut Harness<'_, DesktopApp>) {
    let started = Instant::now();
    harness.step();
    while harness.state().is_busy() {
        assert!(started.elapsed() < Duration::from_secs(60), "no answer within 60 s");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(3);
}

#[test]
fn echos_generated_window_has_its_slider_bounds_and_default() {
    let (url, _server) = serve(echo::Echo);
    let mut harness = generated_window(url);
    harness.run_steps(2);
    harness.get_by_label("Text *");
    let slider = harness.get_by_role(Role::Slider);
    let node = slider.accesskit_node();
    assert_eq!(
        (node.min_numeric_value(), node.max_numeric_value(), node.numeric_value()),
        (Some(1.0), Some(10.0), Some(1.0)),
        "bounds 1-10 and default 1"
    );
    let text = harness.get_by_label("Text *");
    text.focus();
    text.set_text_value_accesskit("ab");
    harness.run_steps(2);
    harness.get_by_label("Submit").click();
    wait_for_answer(&mut harness);
    assert_eq!(
        harness.state().outputs().get("text"),
        Some(&OutputValue::Text("ab".to_owned())),
        "one repeat by default"
    );
}

#[test]
fn the_forecasting_request_gets_a_window_without_its_ui() {
    let models = std::env::temp_dir().join(format!("desktop-generated-forecasting-{}", std::process::id()));
    load_forecasting::train::small_models(&models).unwrap();
    let (url, _server) = serve(load_forecasting::service::LoadForecaster::new(models));
    let mut harness = generated_window(url);
    harness.run_steps(2);
    for model in ["LR", "SVR", "RF"] {
        let node = harness.get_by_label(model);
        assert_eq!(
            node.accesskit_node().toggled(),
            Some(Toggled::True),
            "{model} chosen by default"
        );
    }
    let month = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/load-forecasting/samples/2019-01.csv");
    let path = harness.get_by_label("Path of Load CSV");
    path.focus();
    path.set_text_value_accesskit(month.to_str().unwrap());
    harness.run_steps(2);
    harness.get_by_label("Load file for Load CSV").click();
    harness.run_steps(3);
    harness.get_by_label("Submit").click();
    wait_for_answer(&mut harness);
    assert_eq!(harness.state().banner(), None);
    let Some(OutputValue::Plot(plot)) = harness.state().outputs().get("forecasts") else {
        panic!("no forecast plot: {:?}", harness.state().outputs())
    };
    let names: Vec<&str> = plot.series.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["LR", "SVR", "RF"]);
    assert!(
        plot.series.iter().all(|s| s.x.len() == 721),
        "one forecast per hour from the 24th on"
    );
}
