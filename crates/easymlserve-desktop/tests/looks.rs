//! The desktop window of the forecasting example as a new user sees it (issue 18 items 3 and 6),
//! driven headless with egui_kittest against the real forecasting service over REST: the file button
//! reads "Load" (it read "Load Load CSV"), the time axes tick on round times (they ticked at 16:53 and
//! 06:40), the score table shows each column's digits with thousands separators and copies a cell's
//! full value on click, and the window starts light like the web page and turns dark by its toggle.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use easymlserve_desktop::DesktopApp;
use easymlserve_server::Server;
use easymlserve_ui::{OutputValue, Ui};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

fn window(url: &str) -> Harness<'static, DesktopApp> {
    let app = DesktopApp::new(Arc::new(load_forecasting::ui::forecast_ui()), url, None);
    Harness::builder()
        .with_size(egui::vec2(1400.0, 2400.0))
        .build_ui_state(|ui, app: &mut DesktopApp| app.ui(ui), app)
}

/// Every text painted in the last frame.
fn painted(harness: &Harness<'_, DesktopApp>) -> Vec<String> {
    fn walk(shape: &egui::Shape, out: &mut Vec<String>) {
        match shape {
            egui::Shape::Vec(shapes) => shapes.iter().for_each(|s| walk(s, out)),
            egui::Shape::Text(text) => out.push(text.galley.text().to_owned()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for clipped in &harness.output().shapes {
        walk(&clipped.shape, &mut out);
    }
    out
}

/// Whether `text` is a tick label of a time axis: `MM-DD HH:MM` or `YYYY-MM-DD`.
fn time_tick(text: &str) -> bool {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
    match b.len() {
        11 => digits(0..2) && b[2] == b'-' && digits(3..5) && b[5] == b' ' && digits(6..8) && b[8] == b':',
        10 => digits(0..4) && b[4] == b'-' && digits(5..7) && b[7] == b'-' && digits(8..10),
        _ => false,
    }
}

#[test]
fn the_forecasting_window_reads_well_and_ticks_on_round_times() {
    let models = std::env::temp_dir().join(format!("desktop-looks-{}", std::process::id()));
    load_forecasting::train::small_models(&models).unwrap();
    let (url, _server) =
        easymlserve_testkit::serve_blocking(Server::new(load_forecasting::service::LoadForecaster::new(models)));
    let mut harness = window(&url);
    // kittest picks a theme; a real window follows the system's, as here.
    harness.ctx.set_theme(egui::ThemePreference::System);
    harness.input_mut().system_theme = None;
    harness.run_steps(2);

    // Light when the system says nothing (egui's own fallback is dark), like the web page; dark when
    // the system says dark.
    assert_eq!(harness.ctx.theme(), egui::Theme::Light);
    let light_panel = harness.ctx.global_style().visuals.panel_fill;
    assert_eq!(light_panel, egui::Color32::WHITE);
    harness.input_mut().system_theme = Some(egui::Theme::Dark);
    harness.run_steps(2);
    assert_eq!(harness.ctx.theme(), egui::Theme::Dark);
    harness.input_mut().system_theme = Some(egui::Theme::Light);
    harness.run_steps(2);
    assert_eq!(harness.ctx.theme(), egui::Theme::Light);

    // The file button: "Load" on screen, told apart by its input for screen readers.
    let label = load_forecasting::ui::forecast_ui()
        .inputs()
        .iter()
        .find(|i| i.name == "csv")
        .unwrap()
        .label
        .clone();
    let texts = painted(&harness);
    assert!(texts.iter().any(|t| t == "Load"), "{texts:?}");
    assert!(!texts.iter().any(|t| t.contains("Load Load")), "{texts:?}");
    let month = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/load-forecasting/samples/2019-01.csv");
    let path_label = format!("Path of {label}");
    let path = harness.get_by_label(&path_label);
    path.focus();
    path.set_text_value_accesskit(month.to_str().unwrap());
    harness.run_steps(2);
    harness.get_by_label(&format!("Load file for {label}")).click();
    harness.run_steps(3);

    harness.get_by_label("Submit").click();
    harness.step();
    let started = Instant::now();
    while harness.state().is_busy() {
        assert!(started.elapsed() < Duration::from_secs(60), "no answer within 60 s");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(4);
    assert_eq!(harness.state().banner(), None);

    // Time ticks on whole hours or dates, never 16:53; the input preview and both output plots.
    let ticks: Vec<String> = painted(&harness).into_iter().filter(|t| time_tick(t)).collect();
    assert!(ticks.len() >= 6, "tick labels of three time plots: {ticks:?}");
    for tick in &ticks {
        assert!(
            tick.len() == 10 || tick.ends_with(":00"),
            "{tick} is not a round time: {ticks:?}"
        );
    }

    // The score table: MAE with one decimal and thousands separators, copied whole on click.
    let Some(OutputValue::Table(scores)) = harness.state().outputs().get("scores").cloned() else {
        panic!("no score table")
    };
    let full = scores.rows[0][1].clone();
    let mae: f64 = full.parse().unwrap();
    let whole = mae.round() as i64;
    let shown = format!("{:.1}", mae);
    let (int, frac) = shown.split_once('.').unwrap();
    let grouped = if whole >= 1000 {
        format!("{},{}.{frac}", &int[..int.len() - 3], &int[int.len() - 3..])
    } else {
        shown.clone()
    };
    let texts = painted(&harness);
    assert!(texts.contains(&"MAE [MW]".to_owned()), "unit in the header: {texts:?}");
    assert!(texts.contains(&grouped), "{grouped} in {texts:?}");
    harness.get_by_label(&grouped).click();
    harness.step();
    let copied = harness
        .output()
        .platform_output
        .commands
        .iter()
        .any(|c| matches!(c, egui::OutputCommand::CopyText(t) if *t == full));
    assert!(copied, "{full} copied: {:?}", harness.output().platform_output.commands);
    harness.run_steps(2);
    harness.get_by_label(&format!("Copied {full}"));

    // The toggle turns the window dark, with the web page's dark panel colour.
    harness.get_by_label("Dark theme").click();
    harness.run_steps(2);
    assert_eq!(harness.ctx.theme(), egui::Theme::Dark);
    let dark_panel = harness.ctx.global_style().visuals.panel_fill;
    assert_eq!(dark_panel, egui::Color32::from_rgb(0x18, 0x1d, 0x25));
    assert_ne!(light_panel, dark_panel);
    harness.get_by_label("Dark theme").click();
    harness.run_steps(2);
    assert_eq!(harness.ctx.theme(), egui::Theme::Light);
}
