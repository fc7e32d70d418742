//! Output widgets of the desktop GUI: interactive plots (egui_plot: zoom, pan, hover values), images
//! with the label overlay and a zoom, formatted numbers, text, tables, JSON and file saving.

use std::collections::HashMap;

use easymlserve_ui::{
    ColourMap, FileOutput, ImageOutput, Output, OutputKind, OutputValue, Plot, SeriesKind, Table, XType,
    parse_hex_colour,
};
use egui_plot::{Bar, BarChart, HoverPosition, Legend, Line, PlotPoints, Points};

/// Decodes PNG bytes into an egui image.
pub(crate) fn decode_png(png: &[u8]) -> Option<egui::ColorImage> {
    let rgba = image::load_from_memory(png).ok()?.into_rgba8();
    let size = [rgba.width() as usize, rgba.height() as usize];
    Some(egui::ColorImage::from_rgba_unmultiplied(size, rgba.as_raw()))
}

/// Uploads an image as a texture, drawn with sharp pixels when enlarged.
pub(crate) fn image_texture(ctx: &egui::Context, name: &str, image: egui::ColorImage) -> egui::TextureHandle {
    ctx.load_texture(name, image, egui::TextureOptions::NEAREST)
}

/// Formats epoch milliseconds as a UTC date and time.
pub(crate) fn format_time(ms: f64, with_date: bool) -> String {
    chrono::DateTime::from_timestamp_millis(ms as i64).map_or_else(String::new, |t| {
        if with_date {
            t.format("%Y-%m-%d %H:%M").to_string()
        } else {
            t.format("%m-%d %H:%M").to_string()
        }
    })
}

/// Draws a plot of series on its own (an input preview): its names are coloured afresh.
pub(crate) fn plot_ui(ui: &mut egui::Ui, id: &str, plot: &Plot, height: f32) {
    plot_ui_coloured(ui, id, plot, height, &mut ColourMap::new());
}

/// The egui colour of a series, from the window's name -> colour map (shared with the web GUI's rule).
fn series_colour(colours: &mut ColourMap, series: &easymlserve_ui::Series) -> Option<egui::Color32> {
    parse_hex_colour(&colours.colour(series)).map(|[r, g, b]| egui::Color32::from_rgb(r, g, b))
}

/// Draws a plot of series; time axes show dates, hovering shows the nearest value; each name keeps
/// its colour from `colours` across the plots of one result; clicking a legend entry hides it.
pub(crate) fn plot_ui_coloured(ui: &mut egui::Ui, id: &str, plot: &Plot, height: f32, colours: &mut ColourMap) {
    if !plot.title.is_empty() {
        ui.label(&plot.title);
    }
    let time = plot.x_type == XType::Time;
    let dark = ui.visuals().dark_mode;
    let x_label = plot.x_label.clone();
    let mut chart = egui_plot::Plot::new(id)
        .height(height)
        .legend(Legend::default())
        .x_axis_label(plot.x_label.clone())
        .y_axis_label(plot.y_label.clone())
        .label_formatter(move |pos| {
            let (name, point) = match pos {
                HoverPosition::NearDataPoint {
                    plot_name, position, ..
                } => (*plot_name, position),
                HoverPosition::Elsewhere { position } => ("", position),
            };
            let x = if time {
                format_time(point.x, true)
            } else {
                format!("{x_label} = {:.4}", point.x)
            };
            Some(if name.is_empty() {
                x
            } else {
                format!("{name}: {:.4}\n{x}", point.y)
            })
        });
    if time {
        chart = chart
            .x_grid_spacer(crate::time_axis::spacer)
            .x_axis_formatter(|mark, _| crate::time_axis::label(mark));
    }
    chart.show(ui, |plot_ui| {
        for series in &plot.series {
            let points: Vec<[f64; 2]> = series
                .x
                .iter()
                .zip(&series.y)
                .filter_map(|(x, y)| y.map(|y| [*x, y]))
                .collect();
            let colour = series_colour(colours, series).map(|c| crate::theme::readable(c, dark));
            match series.kind {
                SeriesKind::Line => {
                    let line = Line::new(series.name.clone(), PlotPoints::from(points));
                    plot_ui.line(match colour {
                        Some(c) => line.color(c),
                        None => line,
                    });
                }
                SeriesKind::Scatter => {
                    let dots = Points::new(series.name.clone(), points).radius(2.5);
                    plot_ui.points(match colour {
                        Some(c) => dots.color(c),
                        None => dots,
                    });
                }
                SeriesKind::Bar => {
                    let width = series
                        .x
                        .windows(2)
                        .map(|w| (w[1] - w[0]).abs())
                        .fold(f64::INFINITY, f64::min);
                    let width = if width.is_finite() { width * 0.8 } else { 0.8 };
                    let bars = points.iter().map(|[x, y]| Bar::new(*x, *y).width(width)).collect();
                    let chart = BarChart::new(series.name.clone(), bars);
                    plot_ui.bar_chart(match colour {
                        Some(c) => chart.color(c),
                        None => chart,
                    });
                }
            }
        }
    });
}

/// Draws a table, at most 200 rows, its numbers formatted by `numbers.rs`.
pub(crate) fn table_ui(ui: &mut egui::Ui, id: &str, table: &Table) {
    egui::ScrollArea::both()
        .id_salt(id)
        .max_height(260.0)
        .show(ui, |ui| crate::numbers::table_grid_ui(ui, id, table, 200));
    if table.rows.len() > 200 {
        ui.weak(format!("{} rows, first 200 shown", table.rows.len()));
    }
}

/// Textures and view settings of shown outputs, kept across frames.
#[derive(Default)]
pub(crate) struct OutputCache {
    textures: HashMap<String, (egui::TextureHandle, Option<egui::TextureHandle>)>,
    zoom: HashMap<String, f32>,
    opacity: HashMap<String, f32>,
    pub saved: HashMap<String, String>,
    /// Series name -> colour for the plots of the shown answer.
    colours: ColourMap,
    /// Labels, galleries, annotated images and Markdown.
    pub rich: crate::rich_outputs::RichCache,
}

impl OutputCache {
    /// Forgets the textures and series colours of a previous answer.
    pub fn clear(&mut self) {
        self.textures.clear();
        self.saved.clear();
        self.colours = ColourMap::new();
        self.rich.clear();
    }
}

/// Draws one output with its heading.
pub(crate) fn output_ui(ui: &mut egui::Ui, output: &Output, value: Option<&OutputValue>, cache: &mut OutputCache) {
    ui.strong(&output.label);
    if let Some(help) = &output.description {
        ui.weak(help);
    }
    let Some(value) = value else {
        ui.weak("Submit the form to see this result.");
        return;
    };
    match (value, &output.kind) {
        (OutputValue::Plot(plot), _) => {
            plot_ui_coloured(ui, &format!("plot-{}", output.name), plot, 260.0, &mut cache.colours)
        }
        (OutputValue::Image(image), _) => image_ui(ui, &output.name, image, cache),
        (OutputValue::Number(x), OutputKind::Number { unit, precision }) => {
            crate::numbers::number_ui(ui, &output.name, *x, unit.as_deref(), *precision)
        }
        (OutputValue::Number(x), _) => crate::numbers::number_ui(ui, &output.name, *x, None, None),
        (OutputValue::Text(text), _) => {
            ui.add(egui::Label::new(egui::RichText::new(text).monospace()).selectable(true));
        }
        (OutputValue::Table(table), _) => table_ui(ui, &format!("table-{}", output.name), table),
        (OutputValue::Json(json), _) => {
            let text = serde_json::to_string_pretty(json).unwrap_or_default();
            egui::ScrollArea::vertical()
                .id_salt(format!("json-{}", output.name))
                .max_height(260.0)
                .show(ui, |ui| {
                    ui.add(egui::Label::new(egui::RichText::new(text.clone()).monospace()).selectable(true));
                });
            let file = FileOutput::json(format!("{}.json", output.name), json);
            save_ui(ui, &output.name, &file, cache);
        }
        (OutputValue::File(file), _) => save_ui(ui, &output.name, file, cache),
        (OutputValue::Audio(audio), _) => crate::media::audio_ui(ui, &output.name, audio, cache),
        (OutputValue::Label(classes), kind) => {
            let top_k = match kind {
                OutputKind::Label { top_k } => *top_k,
                _ => None,
            };
            crate::rich_outputs::label_ui(ui, &output.name, classes, top_k);
        }
        (OutputValue::Gallery(g), _) => crate::rich_outputs::gallery_ui(ui, &output.name, g, &mut cache.rich),
        (OutputValue::AnnotatedImage(a), _) => crate::rich_outputs::annotated_ui(ui, &output.name, a, &mut cache.rich),
        (OutputValue::Markdown(doc), _) => crate::rich_outputs::markdown_ui(ui, doc),
    }
}

fn image_ui(ui: &mut egui::Ui, name: &str, image: &ImageOutput, cache: &mut OutputCache) {
    let ctx = ui.ctx().clone();
    let (base, overlay) = cache.textures.entry(name.to_owned()).or_insert_with(|| {
        let blank = || egui::ColorImage::new([1, 1], vec![egui::Color32::BLACK]);
        let base = image_texture(&ctx, name, decode_png(&image.png).unwrap_or_else(blank));
        let overlay = image
            .overlay_png
            .as_ref()
            .and_then(|png| decode_png(png))
            .map(|o| image_texture(&ctx, name, o));
        (base, overlay)
    });
    let zoom = cache.zoom.entry(name.to_owned()).or_insert(0.0);
    let opacity = cache.opacity.entry(name.to_owned()).or_insert(0.5);
    ui.horizontal(|ui| {
        ui.label("Zoom");
        ui.add(egui::Slider::new(zoom, 0.0..=8.0).custom_formatter(|z, _| {
            if z == 0.0 {
                "fit".to_owned()
            } else {
                format!("{:.0}%", z * 100.0)
            }
        }));
        if overlay.is_some() {
            ui.label("Overlay");
            ui.add(egui::Slider::new(opacity, 0.0..=1.0));
        }
    });
    let size = base.size_vec2();
    let scale = if *zoom == 0.0 {
        (ui.available_width() / size.x).min(480.0 / size.y)
    } else {
        *zoom
    };
    egui::ScrollArea::both()
        .id_salt(format!("image-{name}"))
        .max_height(520.0)
        .show(ui, |ui| {
            let (rect, _) = ui.allocate_exact_size(size * scale, egui::Sense::hover());
            let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
            ui.painter().image(base.id(), rect, uv, egui::Color32::WHITE);
            if let Some(overlay) = overlay {
                let tint = egui::Color32::from_white_alpha((*opacity * 255.0) as u8);
                ui.painter().image(overlay.id(), rect, uv, tint);
            }
        });
}

pub(crate) fn save_ui(ui: &mut egui::Ui, name: &str, file: &FileOutput, cache: &mut OutputCache) {
    ui.horizontal(|ui| {
        if ui.button(format!("Save {}…", file.name)).clicked() {
            let picked = rfd::FileDialog::new().set_file_name(&file.name).save_file();
            let target = picked.unwrap_or_else(|| default_save_dir().join(&file.name));
            let message = match std::fs::write(&target, &file.data) {
                Ok(()) => format!("saved to {}", target.display()),
                Err(err) => format!("could not save to {}: {err}", target.display()),
            };
            cache.saved.insert(name.to_owned(), message);
        }
        ui.weak(format!("{}, {} bytes", file.mime, file.data.len()));
    });
    if let Some(message) = cache.saved.get(name) {
        ui.weak(message);
    }
}

/// Where files go when no save dialog is available: the Downloads folder, else the current one.
fn default_save_dir() -> std::path::PathBuf {
    std::env::var_os("HOME")
        .map(|home| std::path::PathBuf::from(home).join("Downloads"))
        .filter(|dir| dir.is_dir())
        .unwrap_or_else(|| std::path::PathBuf::from("."))
}

#[cfg(test)]
mod tests {
    use easymlserve_ui::{PALETTE, Series};
    use egui_kittest::Harness;

    use super::*;

    /// Stroke colours of the lines egui_plot painted in the last frame.
    fn line_colours(harness: &Harness<'_, (OutputCache, bool)>) -> Vec<egui::Color32> {
        fn walk(shape: &egui::Shape, out: &mut Vec<egui::Color32>) {
            match shape {
                egui::Shape::Vec(shapes) => shapes.iter().for_each(|s| walk(s, out)),
                egui::Shape::Path(path) if !path.closed && path.points.len() > 2 => {
                    if let egui::epaint::ColorMode::Solid(c) = path.stroke.color {
                        out.push(c);
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for clipped in &harness.output().shapes {
            walk(&clipped.shape, &mut out);
        }
        out
    }

    fn colour(hex: &str) -> egui::Color32 {
        let [r, g, b] = parse_hex_colour(hex).unwrap();
        egui::Color32::from_rgb(r, g, b)
    }

    #[test]
    fn a_name_keeps_its_colour_across_the_plots_of_an_answer_and_restarts_with_the_next() {
        let x = vec![0.0, 1.0, 2.0, 3.0];
        let forecast = Plot::new("forecast")
            .series(Series::line("measured", x.clone(), vec![1.0, 2.0, 1.0, 2.0]))
            .series(Series::line("LR", x.clone(), vec![2.0, 1.0, 2.0, 1.0]))
            .series(Series::line("SVR", x.clone(), vec![1.5, 1.0, 1.5, 1.0]));
        let error = Plot::new("error").series(Series::line("SVR (MAE 2)", x.clone(), vec![0.1, 0.2, 0.3, 0.1]));
        let spec = Output::plot("error", "Error");
        let mut harness = Harness::builder().with_size(egui::vec2(600.0, 400.0)).build_ui_state(
            move |ui, (cache, first_answer): &mut (OutputCache, bool)| {
                // The forecast plot comes first, and only in the first answer.
                if *first_answer {
                    plot_ui_coloured(ui, "forecast", &forecast, 120.0, &mut cache.colours);
                }
                output_ui(ui, &spec, Some(&OutputValue::Plot(error.clone())), cache);
            },
            (OutputCache::default(), true),
        );
        harness.run();
        let svr = colour(PALETTE[2]);
        let colours = line_colours(&harness);
        assert_eq!(colours.iter().filter(|c| **c == svr).count(), 2, "{colours:?}");
        for hex in &PALETTE[..2] {
            assert!(colours.contains(&colour(hex)), "{hex} in {colours:?}");
        }
        // A new answer: the error plot alone, SVR is now the first name.
        harness.state_mut().0.clear();
        harness.state_mut().1 = false;
        harness.run();
        assert_eq!(line_colours(&harness), vec![colour(PALETTE[0])]);
    }
}
