//! Pictures of the desktop windows for the README (issue 18 item 7), taken where egui_kittest drives
//! them against real servers on 127.0.0.1: the forecasting window after a month was clicked and
//! forecast, and the UI gallery after a submit, each in the light and the dark theme (drawn on the CPU
//! by the testkit's rasterizer and checked there; written with `EASYMLSERVE_SCREENSHOTS`, see
//! `scripts/screenshots.sh`). The segmentation window's pictures come from its own desktop test.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use easymlserve_desktop::DesktopApp;
use easymlserve_server::Server;
use easymlserve_testkit::desktop_light_and_dark;
use easymlserve_testkit::raster::Textures;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

fn window(app: DesktopApp, textures: &Textures) -> Harness<'static, DesktopApp> {
    Harness::builder()
        .with_size(egui::vec2(1280.0, 1300.0))
        .renderer(textures.clone())
        .build_ui_state(|ui, app: &mut DesktopApp| app.ui(ui), app)
}

fn submit(harness: &mut Harness<'_, DesktopApp>) {
    harness.get_by_label("Submit").click();
    let started = Instant::now();
    harness.step();
    while harness.state().is_busy() {
        assert!(started.elapsed() < Duration::from_secs(60), "no answer within 60 s");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(4);
    assert_eq!(harness.state().banner(), None);
    assert!(
        harness.state().status().starts_with("Done in"),
        "{}",
        harness.state().status()
    );
}

#[test]
fn the_forecasting_window_in_light_and_dark() {
    let models = std::env::temp_dir().join(format!("desktop-shots-{}", std::process::id()));
    load_forecasting::train::small_models(&models).unwrap();
    let service = load_forecasting::service::LoadForecaster::new(models);
    let (url, _server) = easymlserve_testkit::serve_blocking(Server::new(service));
    let textures = Textures::default();
    let ui = load_forecasting::ui::forecast_ui();
    let mut harness = window(DesktopApp::new(Arc::new(ui), url, None), &textures);
    harness.run_steps(2);
    harness.get_by_label("Winter: January 2019").click();
    harness.run_steps(3);
    submit(&mut harness);
    desktop_light_and_dark(&mut harness, &textures, "forecasting");
}

#[test]
fn the_gallery_window_in_light_and_dark() {
    let (url, _server) = easymlserve_testkit::serve_blocking(Server::new(ui_gallery::Gallery));
    let textures = Textures::default();
    let mut harness = window(DesktopApp::new(Arc::new(ui_gallery::GalleryUi), url, None), &textures);
    harness.run_steps(2);
    // Relative to the crate (the tests' working directory), so the picture shows no machine's paths.
    let samples = PathBuf::from("../../examples/ui-gallery/samples");
    for (label, file) in [("Time series", "weather.csv"), ("CSV table", "plate.csv")] {
        let (file, path_label) = (samples.join(file), format!("Path of {label}"));
        let path = harness.get_by_label(&path_label);
        path.focus();
        path.set_text_value_accesskit(file.to_str().unwrap());
        harness.run_steps(2);
        harness.get_by_label(&format!("Load file for {label}")).click();
        harness.run_steps(3);
    }
    submit(&mut harness);
    desktop_light_and_dark(&mut harness, &textures, "gallery");
}
