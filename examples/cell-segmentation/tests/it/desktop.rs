//! The same `Ui` in the desktop GUI, driven headless with egui_kittest against the service on
//! 127.0.0.1:0: load the shipped TIFF by path, submit, and get the overlay, the count, the mean size
//! and the JSON file, then its pictures in the light and the dark theme for the README (drawn on the
//! CPU by the testkit, written with `EASYMLSERVE_SCREENSHOTS`). Needs the `desktop` feature.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::util::{segmenter, shipped_tiff};
use cell_segmentation::ui::cell_ui;
use easymlserve::prelude::*;
use easymlserve_desktop::DesktopApp;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

/// Presses Submit and steps the window until the answer is shown, with no error.
fn submit(harness: &mut Harness<'_, DesktopApp>) {
    harness.get_by_label("Submit").click();
    let started = Instant::now();
    harness.step();
    while harness.state().is_busy() {
        assert!(started.elapsed() < Duration::from_secs(40), "no answer within 40 s");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(3);
    assert_eq!(harness.state().banner(), None);
}

#[test]
fn the_desktop_window_segments_the_tiff() {
    let (url, _runtime) = easymlserve_testkit::serve_blocking(Server::new(segmenter()).with_ui(cell_ui()));
    let app = DesktopApp::new(Arc::new(cell_ui()), url, None);
    let textures = easymlserve_testkit::raster::Textures::default();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1200.0, 1600.0))
        .renderer(textures.clone())
        .build_ui_state(|ui, app: &mut DesktopApp| app.ui(ui), app);
    let path_box = harness.get_by_label("Path of Microscopy image");
    path_box.focus();
    path_box.set_text_value_accesskit(shipped_tiff().to_str().unwrap());
    harness.run_steps(2);
    harness.get_by_label("Load file for Microscopy image").click();
    harness.run_steps(3);
    submit(&mut harness);
    let outputs = harness.state().outputs();
    assert_eq!(outputs.0.len(), cell_ui().outputs().len(), "every output got a value");
    let Some(OutputValue::Number(count)) = outputs.get("count") else {
        panic!("no count")
    };
    assert!((100.0..=150.0).contains(count), "{count} cells; the mask has 125");
    assert!(matches!(outputs.get("overlay"), Some(OutputValue::Image(i)) if i.overlay_png.is_some()));

    // The README's pictures: the shipped image chosen as a visitor would, by its example.
    harness.get_by_label("Nuclei (the shipped image)").click();
    harness.run_steps(3);
    assert_eq!(harness.state().field_error("image"), None);
    submit(&mut harness);
    easymlserve_testkit::desktop_light_and_dark(&mut harness, &textures, "segmentation");
}
