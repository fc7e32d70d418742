//! Pictures of the desktop window for the README (issue 18 item 7), taken by the egui_kittest tests
//! that drive the forecasting, segmentation and gallery windows, drawn by [`crate::raster`] (no GPU).
//! As with the browser's pictures, a normal run takes and checks them; with `EASYMLSERVE_SCREENSHOTS`
//! set they are written to `docs/screenshots/desktop-{name}-light.png` and `-dark.png`.

use std::collections::HashSet;

use egui_kittest::Harness;

use crate::raster::{Textures, draw};
use crate::screenshots::{Picture, screenshot_dir};

/// Fewest distinct colours a picture of a window with text and plots has (a blank one has one).
const FEWEST_COLOURS: usize = 64;

/// The window as the last frame painted it.
fn picture<S>(harness: &Harness<'_, S>, textures: &Textures) -> Picture {
    let output = harness.output();
    let ppp = output.pixels_per_point;
    let primitives = harness.ctx.tessellate(output.shapes.clone(), ppp);
    let size = harness.ctx.content_rect().size();
    let background = harness.ctx.global_style().visuals.panel_fill;
    let drawn = draw(&primitives, textures, size, ppp, background);
    Picture {
        width: drawn.width,
        height: drawn.height,
        rgb: drawn.pixels,
    }
}

/// Takes the window in the light and the dark theme; checks both are the same size, show text and
/// plots (many colours), start with each theme's panel colour and that the dark one is darker; leaves
/// the window light; returns both as RGB PNGs, written to `docs/screenshots/` when
/// `EASYMLSERVE_SCREENSHOTS` is set. The harness must have been built with `.renderer(textures)`.
pub fn desktop_light_and_dark<S>(harness: &mut Harness<'_, S>, textures: &Textures, name: &str) -> [Vec<u8>; 2] {
    let mut shots = Vec::new();
    for theme in [egui::Theme::Light, egui::Theme::Dark] {
        harness.ctx.set_theme(theme);
        harness.run_steps(3);
        let shot = picture(harness, textures);
        let panel = harness.ctx.global_style().visuals.panel_fill;
        assert_eq!(
            shot.rgb[..3],
            [panel.r(), panel.g(), panel.b()],
            "{name}: the {theme:?} window's corner is its panel colour"
        );
        let colours: HashSet<&[u8]> = shot.rgb.chunks_exact(3).collect();
        assert!(
            colours.len() >= FEWEST_COLOURS,
            "{name}: the {theme:?} picture has only {} colours",
            colours.len()
        );
        shots.push(shot);
    }
    harness.ctx.set_theme(egui::Theme::Light);
    harness.run_steps(2);
    let (light, dark) = (&shots[0], &shots[1]);
    assert_eq!(
        (light.width, light.height),
        (dark.width, dark.height),
        "{name}: same window"
    );
    let (lit, dim) = (light.mean_luma(), dark.mean_luma());
    assert!(
        dim < lit * 0.7,
        "{name}: the dark picture is dark (mean luma {dim:.0} against {lit:.0})"
    );
    let (light, dark) = (light.encode(), dark.encode());
    if std::env::var_os("EASYMLSERVE_SCREENSHOTS").is_some() {
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("desktop-{name}-light.png")), &light).unwrap();
        std::fs::write(dir.join(format!("desktop-{name}-dark.png")), &dark).unwrap();
    }
    [light, dark]
}
