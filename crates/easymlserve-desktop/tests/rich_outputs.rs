//! The desktop GUI's rich outputs (issue 18) driven headless with egui_kittest against the UI
//! gallery on 127.0.0.1: the Label's classes and percentages, the Gallery's captions and its
//! enlarged view (opened by a click, closed by Escape and by Close), the AnnotatedImage's boxes in
//! the palette's colours and its legend, and the Markdown report's text.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::sync::Arc;
use std::time::{Duration, Instant};

use easymlserve_desktop::DesktopApp;
use easymlserve_server::Server;
use easymlserve_ui::{OutputValue, PALETTE, parse_hex_colour};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

fn answered_gallery() -> (Harness<'static, DesktopApp>, tokio::runtime::Runtime) {
    let (url, server) = easymlserve_testkit::serve_blocking(Server::new(ui_gallery::Gallery));
    let app = DesktopApp::new(Arc::new(ui_gallery::GalleryUi), &url, None);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1200.0, 3200.0))
        .build_ui_state(|ui, app: &mut DesktopApp| app.ui(ui), app);
    harness.get_by_label("Submit").click();
    let started = Instant::now();
    harness.step();
    while harness.state().is_busy() {
        assert!(started.elapsed() < Duration::from_secs(30), "no answer within 30 s");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(3);
    assert_eq!(harness.state().banner(), None);
    (harness, server)
}

/// Rectangles outlined in `colour` in the last frame.
fn outlined(harness: &Harness<'_, DesktopApp>, colour: egui::Color32) -> Vec<egui::Rect> {
    fn walk(shape: &egui::Shape, colour: egui::Color32, out: &mut Vec<egui::Rect>) {
        match shape {
            egui::Shape::Vec(shapes) => shapes.iter().for_each(|s| walk(s, colour, out)),
            egui::Shape::Rect(r) if r.stroke.color == colour && r.stroke.width > 0.0 => out.push(r.rect),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for clipped in &harness.output().shapes {
        walk(&clipped.shape, colour, &mut out);
    }
    out
}

fn palette(i: usize) -> egui::Color32 {
    let [r, g, b] = parse_hex_colour(PALETTE[i]).unwrap();
    egui::Color32::from_rgb(r, g, b)
}

#[test]
fn labels_pictures_boxes_and_markdown_are_drawn_and_a_picture_enlarges() {
    let (mut harness, _server) = answered_gallery();
    // Green (the default) at ratio 0.5: 0.5 + 0.4 x 0.5 = 0.7; red and blue share 0.3 as 2 : 1.
    for text in ["70.0%", "red", "20.0%", "blue", "10.0%"] {
        harness.get_by_label(text);
    }
    assert_eq!(
        harness.get_all_by_label("green").count(),
        2,
        "the chosen colour and the top class"
    );
    for caption in ["original", "inverted", "3 x 3 checkerboard", "bright (1)", "dark (1)"] {
        harness.get_by_label(caption);
    }
    harness.get_by_label("My experiment");
    harness.get_by_label("REST API docs");

    // The dark box covers the whole 96 x 64 image; the bright one spans x 10..84, y 8..57.
    let dark = outlined(&harness, palette(1));
    let bright = outlined(&harness, palette(0));
    assert_eq!(
        (dark.len(), bright.len()),
        (1, 1),
        "one box per label: {dark:?} {bright:?}"
    );
    let (dark, bright) = (dark[0], bright[0]);
    let px = dark.width() / 96.0;
    assert!((dark.height() / px - 64.0).abs() < 0.5, "{dark:?}");
    for (got, want) in [
        ((bright.min.x - dark.min.x) / px, 10.0),
        ((bright.min.y - dark.min.y) / px, 8.0),
        (bright.width() / px, 75.0),
        (bright.height() / px, 50.0),
    ] {
        assert!(
            (got - want).abs() < 0.5,
            "bright box {bright:?} in {dark:?}: {got} px, want {want}"
        );
    }

    // A click enlarges the picture in a window; Escape closes it, and so does Close.
    assert!(harness.query_by_label("96 x 64 px").is_none());
    harness.get_by_label("Enlarge inverted").click();
    harness.run_steps(3);
    harness.get_by_label("96 x 64 px");
    harness.key_press(egui::Key::Escape);
    harness.run_steps(3);
    assert!(
        harness.query_by_label("96 x 64 px").is_none(),
        "Escape closes the enlarged view"
    );
    harness.get_by_label("Enlarge 3 x 3 checkerboard").click();
    harness.run_steps(3);
    harness.get_by_label("64 x 64 px");
    harness.get_by_label("Close").click();
    harness.run_steps(3);
    assert!(harness.query_by_label("64 x 64 px").is_none(), "Close closes it");

    let Some(OutputValue::Markdown(card)) = harness.state().outputs().get("card") else {
        panic!("no report card")
    };
    assert!(card.plain_text().contains("Toppings"));
}
