//! The desktop GUI's light and dark looks, built from the web page's palette (style.css; a test checks
//! that every colour here is the one there) so both GUIs look alike and pass WCAG AA the same way. The
//! window follows the system's theme (light when the system says nothing, as the web page does) until
//! the "Dark theme" toggle chooses.

use egui::{Color32, Stroke, Theme, ThemePreference, Visuals};

/// One theme's colours, named as style.css names them.
pub(crate) struct Palette {
    pub bg: Color32,
    pub panel: Color32,
    pub text: Color32,
    pub muted: Color32,
    pub line: Color32,
    pub border: Color32,
    pub accent: Color32,
    pub accent_text: Color32,
    pub link: Color32,
    pub error: Color32,
    pub code: Color32,
    pub hover: Color32,
}

const fn hex(rgb: u32) -> Color32 {
    Color32::from_rgb((rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8)
}

/// style.css `:root`.
pub(crate) const LIGHT: Palette = Palette {
    bg: hex(0xf6f7f9),
    panel: hex(0xffffff),
    text: hex(0x1d2430),
    muted: hex(0x566072),
    line: hex(0xd8dde5),
    border: hex(0x767f8d),
    accent: hex(0x1a5fd0),
    accent_text: hex(0xffffff),
    link: hex(0x1a5fd0),
    error: hex(0xb42318),
    code: hex(0xf3f5f8),
    hover: hex(0xeef4ff),
};

/// style.css `:root[data-theme=dark]`.
pub(crate) const DARK: Palette = Palette {
    bg: hex(0x0f1318),
    panel: hex(0x181d25),
    text: hex(0xe6e9ef),
    muted: hex(0xa3acba),
    line: hex(0x313845),
    border: hex(0x7f899a),
    accent: hex(0x7aa7ff),
    accent_text: hex(0x0b1220),
    link: hex(0x8fb5ff),
    error: hex(0xff9b8f),
    code: hex(0x11151b),
    hover: hex(0x1c2a40),
};

/// egui visuals from a palette.
pub(crate) fn visuals(theme: Theme) -> Visuals {
    let (mut v, p) = match theme {
        Theme::Light => (Visuals::light(), &LIGHT),
        Theme::Dark => (Visuals::dark(), &DARK),
    };
    v.override_text_color = Some(p.text);
    v.weak_text_color = Some(p.muted);
    v.panel_fill = p.panel;
    v.window_fill = p.panel;
    v.window_stroke = Stroke::new(1.0, p.line);
    v.extreme_bg_color = p.bg;
    v.text_edit_bg_color = Some(p.panel);
    v.faint_bg_color = p.code;
    v.code_bg_color = p.code;
    v.hyperlink_color = p.link;
    v.error_fg_color = p.error;
    v.selection.bg_fill = p.accent;
    v.selection.stroke = Stroke::new(1.0, p.accent_text);
    let w = &mut v.widgets;
    w.noninteractive.bg_fill = p.panel;
    w.noninteractive.weak_bg_fill = p.panel;
    w.noninteractive.bg_stroke = Stroke::new(1.0, p.line);
    w.noninteractive.fg_stroke = Stroke::new(1.0, p.text);
    for state in [&mut w.inactive, &mut w.hovered, &mut w.active, &mut w.open] {
        state.fg_stroke = Stroke::new(state.fg_stroke.width, p.text);
    }
    // `bg_fill` is a slider's rail and a checkbox's box: the line colour, or they vanish into the
    // panel (the window's pictures showed sliders with no rail); buttons use `weak_bg_fill`.
    w.inactive.bg_fill = p.line;
    w.inactive.weak_bg_fill = p.panel;
    w.inactive.bg_stroke = Stroke::new(1.0, p.border);
    for state in [&mut w.hovered, &mut w.active, &mut w.open] {
        state.bg_fill = p.hover;
        state.weak_bg_fill = p.hover;
        state.bg_stroke = Stroke::new(state.bg_stroke.width.max(1.0), p.accent);
    }
    v
}

/// Gives the window both looks once, light when the system says nothing (as the web page does).
pub(crate) fn install(ctx: &egui::Context) {
    let id = egui::Id::unique("easymlserve-theme-installed");
    if ctx.data(|d| d.get_temp::<bool>(id)).unwrap_or(false) {
        return;
    }
    ctx.set_visuals_of(Theme::Light, visuals(Theme::Light));
    ctx.set_visuals_of(Theme::Dark, visuals(Theme::Dark));
    ctx.options_mut(|o| o.fallback_theme = Theme::Light);
    ctx.data_mut(|d| d.insert_temp(id, true));
}

/// The "Dark theme" toggle, at the right of its row; installs the looks on first use.
pub(crate) fn toggle_ui(ui: &mut egui::Ui) {
    install(ui.ctx());
    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
        let dark = ui.ctx().theme() == Theme::Dark;
        let response = ui
            .add(egui::Button::selectable(dark, "Dark theme"))
            .on_hover_text("Switch between the light and the dark look");
        if response.clicked() {
            ui.ctx().set_theme(if dark {
                ThemePreference::Light
            } else {
                ThemePreference::Dark
            });
        }
    });
}

/// A series colour readable on the plot's background: the palette's black turns into the text colour
/// in the dark theme.
pub(crate) fn readable(colour: Color32, dark: bool) -> Color32 {
    if dark && colour == Color32::BLACK {
        DARK.text
    } else {
        colour
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luminance(c: Color32) -> f64 {
        let channel = |v: u8| {
            let v = f64::from(v) / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * channel(c.r()) + 0.7152 * channel(c.g()) + 0.0722 * channel(c.b())
    }

    fn contrast(a: Color32, b: Color32) -> f64 {
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    /// `--name: #hex` pairs of the first CSS block that starts with `selector`.
    fn css_block(css: &str, selector: &str) -> Vec<(String, String)> {
        let start = css
            .find(selector)
            .unwrap_or_else(|| panic!("no {selector} in style.css"))
            + selector.len();
        let block = &css[start..start + css[start..].find('}').unwrap()];
        block
            .split(';')
            .filter_map(|decl| {
                let (name, value) = decl.split_once(':')?;
                let (name, value) = (name.trim(), value.trim());
                (name.starts_with("--") && value.starts_with('#')).then(|| (name.to_owned(), value.to_lowercase()))
            })
            .collect()
    }

    fn css_hex(c: Color32) -> String {
        format!("#{:02x}{:02x}{:02x}", c.r(), c.g(), c.b())
    }

    #[test]
    fn the_palettes_are_the_web_pages() {
        let css = include_str!("../../easymlserve-web/assets/style.css");
        for (selector, p) in [(":root {", &LIGHT), (":root[data-theme=dark] {", &DARK)] {
            let block = css_block(css, selector);
            let named = [
                ("--bg", p.bg),
                ("--panel", p.panel),
                ("--text", p.text),
                ("--muted", p.muted),
                ("--line", p.line),
                ("--border", p.border),
                ("--accent", p.accent),
                ("--accent-text", p.accent_text),
                ("--link", p.link),
                ("--error", p.error),
                ("--code", p.code),
                ("--hover", p.hover),
            ];
            for (name, colour) in named {
                let css_value = block.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
                let css_value = css_value.map(|v| if v == "#fff" { "#ffffff" } else { v });
                assert_eq!(css_value, Some(css_hex(colour).as_str()), "{selector} {name}");
            }
        }
    }

    #[test]
    fn both_looks_pass_wcag_aa() {
        for theme in [Theme::Light, Theme::Dark] {
            let v = visuals(theme);
            let text = v.override_text_color.unwrap();
            for (what, background) in [
                ("panel", v.panel_fill),
                ("fields", v.extreme_bg_color),
                ("stripes", v.faint_bg_color),
            ] {
                assert!(contrast(text, background) >= 4.5, "{theme:?}: text on {what}");
                assert!(
                    contrast(v.weak_text_color.unwrap(), background) >= 4.5,
                    "{theme:?}: weak text on {what}"
                );
                assert!(
                    contrast(v.hyperlink_color, background) >= 4.5,
                    "{theme:?}: links on {what}"
                );
                assert!(
                    contrast(v.error_fg_color, background) >= 4.5,
                    "{theme:?}: errors on {what}"
                );
            }
            assert!(
                contrast(v.widgets.inactive.bg_stroke.color, v.panel_fill) >= 3.0,
                "{theme:?}: button border"
            );
            assert!(
                contrast(v.widgets.hovered.bg_stroke.color, v.panel_fill) >= 3.0,
                "{theme:?}: hover/focus"
            );
            assert!(
                contrast(v.selection.stroke.color, v.selection.bg_fill) >= 4.5,
                "{theme:?}: selected text"
            );
            assert!(
                contrast(v.widgets.inactive.fg_stroke.color, v.widgets.inactive.bg_fill) >= 4.5,
                "{theme:?}: button text"
            );
        }
        assert_eq!(readable(Color32::BLACK, true), DARK.text);
        assert_eq!(readable(Color32::BLACK, false), Color32::BLACK);
    }
}
