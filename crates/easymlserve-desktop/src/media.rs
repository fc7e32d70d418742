//! Camera and audio in the desktop GUI. There is no camera capture here: a Camera input says so and
//! takes an image file, and an Audio input takes a WAV or FLAC file (recording is the web page's).
//! An audio output is drawn as its waveform with its length and a Save button; playing it is left to
//! the system's player (opening the saved WAV), so the GUI needs no audio device crate.

use easymlserve_ui::{AudioOutput, FileOutput, InputKind};

use crate::outputs::{OutputCache, save_ui};

/// The sentence shown above a file input that stands in for a device the desktop GUI does not use.
pub(crate) fn fallback_note(kind: &InputKind) -> Option<&'static str> {
    match kind {
        InputKind::Camera => Some("No camera capture in the desktop GUI: choose an image file instead."),
        InputKind::Audio { .. } => Some("Choose a WAV or FLAC file (recording is offered by the web page)."),
        _ => None,
    }
}

/// Draws an audio output: its waveform, length, and a Save button for the WAV.
pub(crate) fn audio_ui(ui: &mut egui::Ui, name: &str, audio: &AudioOutput, cache: &mut OutputCache) {
    let width = ui.available_width().clamp(120.0, 720.0);
    let (rect, response) = ui.allocate_exact_size(egui::vec2(width, 72.0), egui::Sense::hover());
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals();
    painter.rect_filled(rect, 2.0, visuals.extreme_bg_color);
    let colour = visuals.hyperlink_color;
    let columns = audio.waveform.len().max(1) as f32;
    for (i, [lo, hi]) in audio.waveform.iter().enumerate() {
        let x = rect.left() + (i as f32 + 0.5) * rect.width() / columns;
        let y = |v: f32| rect.center().y - v.clamp(-1.0, 1.0) * rect.height() / 2.0;
        painter.line_segment(
            [egui::pos2(x, y(*hi)), egui::pos2(x, y(*lo))],
            egui::Stroke::new(1.0, colour),
        );
    }
    let summary = format!(
        "{:.2} s, {} Hz, {} channel{}",
        audio.duration,
        audio.sample_rate,
        audio.channels,
        if audio.channels == 1 { "" } else { "s" }
    );
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, format!("Waveform of {name}")));
    ui.label(&summary);
    let file = FileOutput::new(format!("{name}.wav"), "audio/wav", audio.wav.clone());
    save_ui(ui, name, &file, cache);
    ui.weak("Open the saved file with your system's player to listen.");
}
