//! The desktop GUI's rich outputs (issue 18): a classification's top classes as bars with their
//! percentages, a gallery of thumbnails that enlarge on click, an image with labelled boxes and
//! masks in the shared palette, and a Markdown document drawn from its safe tree with egui widgets.

use std::collections::HashMap;

use easymlserve_ui::{AnnotatedImage, Block, Classes, ColourMap, Gallery, Inline, Markdown, parse_hex_colour};

use crate::outputs::{decode_png, image_texture};

/// Textures of the shown rich outputs and the enlarged gallery picture, kept across frames.
#[derive(Default)]
pub(crate) struct RichCache {
    textures: HashMap<String, egui::TextureHandle>,
    /// The output and picture index open in the enlarged view.
    enlarged: Option<(String, usize)>,
}

impl RichCache {
    /// Forgets the previous answer's textures and closes the enlarged view.
    pub fn clear(&mut self) {
        self.textures.clear();
        self.enlarged = None;
    }

    /// The texture of `png` under `key`, decoded once.
    fn texture(&mut self, ctx: &egui::Context, key: String, png: &[u8]) -> egui::TextureHandle {
        self.textures
            .entry(key.clone())
            .or_insert_with(|| {
                let blank = || egui::ColorImage::new([1, 1], vec![egui::Color32::TRANSPARENT]);
                image_texture(ctx, &key, decode_png(png).unwrap_or_else(blank))
            })
            .clone()
    }
}

fn colour(hex: &str) -> egui::Color32 {
    let [r, g, b] = parse_hex_colour(hex).unwrap_or([128, 128, 128]);
    egui::Color32::from_rgb(r, g, b)
}

/// The top classes, one row each: name, a bar of its confidence, and the percentage as text.
pub(crate) fn label_ui(ui: &mut egui::Ui, name: &str, classes: &Classes, top_k: Option<usize>) {
    let shown = classes.shown(top_k);
    if shown.is_empty() {
        ui.weak("No classes.");
        return;
    }
    egui::Grid::new(format!("label-{name}")).num_columns(3).show(ui, |ui| {
        for (i, class) in shown.iter().enumerate() {
            let text = egui::RichText::new(&class.label);
            ui.label(if i == 0 { text.strong() } else { text });
            ui.add(
                egui::ProgressBar::new(class.bar() as f32)
                    .desired_width(220.0)
                    .fill(ui.visuals().selection.bg_fill),
            );
            ui.label(class.percent());
            ui.end_row();
        }
    });
}

/// A grid of thumbnails with captions; clicking one opens it large in a window that its Close
/// button or Escape closes.
pub(crate) fn gallery_ui(ui: &mut egui::Ui, name: &str, gallery: &Gallery, cache: &mut RichCache) {
    let ctx = ui.ctx().clone();
    let side = 120.0;
    ui.horizontal_wrapped(|ui| {
        for (i, item) in gallery.items.iter().enumerate() {
            let texture = cache.texture(&ctx, format!("{name}/{i}"), &item.image.png);
            ui.vertical(|ui| {
                ui.set_width(side);
                let image = egui::Image::new(egui::load::SizedTexture::from_handle(&texture))
                    .fit_to_exact_size(egui::vec2(side, side))
                    .maintain_aspect_ratio(true)
                    .sense(egui::Sense::click());
                let caption = if item.caption.is_empty() {
                    format!("picture {}", i + 1)
                } else {
                    item.caption.clone()
                };
                let response = ui.add(image).on_hover_text("Click to enlarge");
                let label = format!("Enlarge {caption}");
                response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &label));
                if response.clicked() {
                    cache.enlarged = Some((name.to_owned(), i));
                }
                ui.label(&item.caption);
            });
        }
    });
    let Some((open, index)) = cache.enlarged.clone() else {
        return;
    };
    let Some(item) = gallery.items.get(index).filter(|_| open == name) else {
        return;
    };
    let texture = cache.texture(&ctx, format!("{name}/{index}"), &item.image.png);
    let mut close = ui.input(|i| i.key_pressed(egui::Key::Escape));
    let title = if item.caption.is_empty() {
        "Picture"
    } else {
        &item.caption
    };
    egui::Window::new(title)
        .id(egui::Id::unique(("gallery-view", name)))
        .collapsible(false)
        .resizable(true)
        .show(&ctx, |ui| {
            let size = texture.size_vec2();
            let scale = (720.0 / size.x).min(540.0 / size.y).max(0.01);
            ui.add(egui::Image::new(egui::load::SizedTexture::new(
                texture.id(),
                size * scale,
            )));
            ui.label(format!("{} x {} px", item.image.width, item.image.height));
            if ui.button("Close").clicked() {
                close = true;
            }
        });
    if close {
        cache.enlarged = None;
    }
}

/// The image with each annotation's mask tinted and box outlined in its label's palette colour,
/// the caption at the box, and a legend of the labels underneath.
pub(crate) fn annotated_ui(ui: &mut egui::Ui, name: &str, value: &AnnotatedImage, cache: &mut RichCache) {
    let ctx = ui.ctx().clone();
    let base = cache.texture(&ctx, format!("{name}/image"), &value.image.png);
    let size = egui::vec2(value.image.width.max(1) as f32, value.image.height.max(1) as f32);
    let scale = (ui.available_width() / size.x).min(480.0 / size.y).max(0.01);
    let (rect, _) = ui.allocate_exact_size(size * scale, egui::Sense::hover());
    let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
    let painter = ui.painter_at(rect);
    painter.image(base.id(), rect, uv, egui::Color32::WHITE);
    let mut colours = ColourMap::new();
    for (i, a) in value.annotations.iter().enumerate() {
        let c = colour(&colours.colour_of(&a.label));
        if let Some(mask) = &a.mask_png {
            let texture = cache.texture(&ctx, format!("{name}/mask/{i}"), mask);
            painter.image(texture.id(), rect, uv, c.gamma_multiply(0.45));
        }
        let Some(b) = a.bbox else { continue };
        let min = rect.min + egui::vec2(b.x as f32, b.y as f32) * scale;
        let boxed = egui::Rect::from_min_size(min, egui::vec2(b.width as f32, b.height as f32) * scale);
        painter.rect_stroke(boxed, 0.0, egui::Stroke::new(2.0, c), egui::StrokeKind::Inside);
        let font = egui::FontId::proportional(12.0);
        let galley = painter.layout_no_wrap(a.caption(), font, egui::Color32::WHITE);
        let tag = egui::Rect::from_min_size(boxed.min, galley.size() + egui::vec2(6.0, 2.0));
        painter.rect_filled(tag, 0.0, egui::Color32::from_black_alpha(200));
        painter.galley(tag.min + egui::vec2(3.0, 1.0), galley, egui::Color32::WHITE);
    }
    ui.horizontal_wrapped(|ui| {
        for (label, hex) in value.legend() {
            let count = value.annotations.iter().filter(|a| a.label == label).count();
            let (swatch, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
            ui.painter().rect_filled(swatch, 2.0, colour(&hex));
            ui.label(format!("{label} ({count})"));
        }
    });
}

/// A Markdown document, block by block.
pub(crate) fn markdown_ui(ui: &mut egui::Ui, document: &Markdown) {
    blocks_ui(ui, &document.blocks);
}

fn blocks_ui(ui: &mut egui::Ui, blocks: &[Block]) {
    for block in blocks {
        match block {
            Block::Heading { level, content } => {
                let size = [22.0, 19.0, 17.0, 15.0, 14.0, 13.0][usize::from(level.clamp(&1, &6) - 1)];
                ui.label(egui::RichText::new(plain(content)).size(size).strong());
            }
            Block::Paragraph { content } => inlines_ui(ui, content),
            Block::List { start, items } => {
                for (i, item) in items.iter().enumerate() {
                    ui.horizontal(|ui| {
                        let marker = match start {
                            Some(n) => format!("{}.", n + i as u64),
                            None => "•".to_owned(),
                        };
                        ui.label(marker);
                        ui.vertical(|ui| blocks_ui(ui, item));
                    });
                }
            }
            Block::Code { text, .. } => {
                egui::Frame::group(ui.style()).show(ui, |ui| {
                    ui.add(egui::Label::new(egui::RichText::new(text.trim_end()).monospace()).selectable(true));
                });
            }
            Block::Quote { blocks } => {
                ui.indent("quote", |ui| blocks_ui(ui, blocks));
            }
            Block::Table { head, rows } => {
                egui::Grid::new(ui.next_auto_id()).striped(true).show(ui, |ui| {
                    for cell in head {
                        ui.strong(plain(cell));
                    }
                    ui.end_row();
                    for row in rows {
                        for cell in row {
                            inlines_ui(ui, cell);
                        }
                        ui.end_row();
                    }
                });
            }
            Block::Rule => {
                ui.separator();
            }
        }
    }
}

/// How an inline run is styled by its enclosing emphasis.
#[derive(Clone, Copy, Default)]
struct Style {
    strong: bool,
    italic: bool,
}

fn inlines_ui(ui: &mut egui::Ui, content: &[Inline]) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 0.0;
        for inline in content {
            inline_ui(ui, inline, Style::default());
        }
    });
}

fn inline_ui(ui: &mut egui::Ui, inline: &Inline, style: Style) {
    match inline {
        Inline::Text { text } => {
            let mut rich = egui::RichText::new(text);
            if style.strong {
                rich = rich.strong();
            }
            if style.italic {
                rich = rich.italics();
            }
            ui.label(rich);
        }
        Inline::Code { text } => {
            ui.label(egui::RichText::new(text).code());
        }
        Inline::Emphasis { content } => content
            .iter()
            .for_each(|i| inline_ui(ui, i, Style { italic: true, ..style })),
        Inline::Strong { content } => content
            .iter()
            .for_each(|i| inline_ui(ui, i, Style { strong: true, ..style })),
        Inline::Link { href, content } => {
            // The tree only carries targets that passed `safe_href`; checked again here, as the
            // value may have been built by hand.
            if easymlserve_ui::safe_href(href) {
                ui.hyperlink_to(plain(content), href);
            } else {
                ui.label(plain(content));
            }
        }
        Inline::Break => ui.end_row(),
    }
}

/// The text of inline runs without their styling.
fn plain(content: &[Inline]) -> String {
    let mut out = String::new();
    for inline in content {
        match inline {
            Inline::Text { text } | Inline::Code { text } => out.push_str(text),
            Inline::Emphasis { content } | Inline::Strong { content } | Inline::Link { content, .. } => {
                out.push_str(&plain(content));
            }
            Inline::Break => out.push(' '),
        }
    }
    out
}
