//! The gallery's media page in the desktop window, headless with egui_kittest against the real service
//! on 127.0.0.1: the Camera input says it takes a file and does, a spreadsheet block pasted into a
//! cell fills the grid (rows added), Add row and remove work, a WAV loads with its preview, and the
//! echoed sound comes back as a waveform with its length and a Save button.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::sync::Arc;
use std::time::{Duration, Instant};

use easymlserve_desktop::DesktopApp;
use easymlserve_server::Server;
use easymlserve_ui::{AudioValue, OutputValue};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

fn window(url: &str) -> Harness<'static, DesktopApp> {
    let app = DesktopApp::new(Arc::new(ui_gallery::MediaUi), url, None);
    Harness::builder()
        .with_size(egui::vec2(1200.0, 1600.0))
        .build_ui_state(|ui, app: &mut DesktopApp| app.ui(ui), app)
}

fn cell(harness: &Harness<'_, DesktopApp>, label: &str) -> String {
    harness
        .get_by_label(label)
        .accesskit_node()
        .value()
        .unwrap_or_default()
        .to_string()
}

fn load(harness: &mut Harness<'_, DesktopApp>, label: &str, path: &std::path::Path) {
    let path_label = format!("Path of {label}");
    let node = harness.get_by_label(&path_label);
    node.focus();
    node.set_text_value_accesskit(path.to_str().unwrap());
    harness.run_steps(2);
    harness.get_by_label(&format!("Load file for {label}")).click();
    harness.run_steps(3);
}

#[test]
fn camera_falls_back_to_a_file_the_grid_takes_a_paste_and_audio_round_trips() {
    let (url, _server) = easymlserve_testkit::serve_blocking(Server::new(ui_gallery::MediaLab));
    let dir = std::env::temp_dir().join(format!("easymlserve-desktop-media-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut harness = window(&url);
    harness.run_steps(2);

    harness.get_by_label("No camera capture in the desktop GUI: choose an image file instead.");
    let png = dir.join("shot.png");
    image::GrayImage::from_pixel(12, 9, image::Luma([7]))
        .save(&png)
        .unwrap();
    load(&mut harness, "Photo", &png);
    harness.get_by_label("12 x 9 px, 8-bit grey");

    assert_eq!(cell(&harness, "site row 1"), "Kiel");
    assert_eq!(cell(&harness, "load row 2"), "4.25");
    harness.get_by_label("site row 1").focus();
    harness.run_steps(2);
    harness.event(egui::Event::Paste(
        "Ulm\t3\t1.5\tyes\nHamm\t4\t2\t\nJena\t5\t10\tno\n".to_owned(),
    ));
    harness.run_steps(3);
    assert_eq!(
        cell(&harness, "site row 1"),
        "Ulm",
        "the block did not replace the first cell"
    );
    assert_eq!(cell(&harness, "site row 3"), "Jena");
    assert_eq!(cell(&harness, "load row 3"), "10");
    harness.get_by_label("3 rows · paste a block copied from a spreadsheet into a cell");
    harness.get_by_label("Add row").click();
    harness.run_steps(2);
    harness.get_by_label("4 rows · paste a block copied from a spreadsheet into a cell");
    harness.get_all_by_label("Remove").last().unwrap().click();
    harness.run_steps(2);
    harness.get_by_label("3 rows · paste a block copied from a spreadsheet into a cell");

    let wav = dir.join("tone.wav");
    let samples: Vec<f32> = (0..4000).map(|i| (i as f32 * 0.3).sin() * 0.5).collect();
    std::fs::write(&wav, AudioValue::new(8000, 1, samples).to_wav()).unwrap();
    load(&mut harness, "Sound", &wav);
    harness.get_by_label("8000 Hz, 1 channel, 0.50 s");

    harness.get_by_label("Submit").click();
    let started = Instant::now();
    harness.step();
    while harness.state().is_busy() {
        assert!(started.elapsed() < Duration::from_secs(30), "no answer within 30 s");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(3);
    let Some(OutputValue::Text(summary)) = harness.state().outputs().get("summary").cloned() else {
        panic!("no summary: {:?}", harness.state().banner());
    };
    assert_eq!(
        summary,
        "photo 12 x 9 px; 3 rows, load sum 13.5, day sum 12, 1 holidays; sound 8000 Hz, 4000 samples, 0.50 s"
    );
    harness.get_by_label("0.50 s, 8000 Hz, 1 channel");
    harness.get_by_label("Waveform of echo");
    harness.get_by_label("Save echo.wav…");
    let _ = std::fs::remove_dir_all(&dir);
}
