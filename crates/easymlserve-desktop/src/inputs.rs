//! Input widgets of the desktop GUI: one editable state per component kind, drawn with egui, turned
//! into the same raw values the web form sends. File inputs take a native dialog or a typed path, and
//! show a preview parsed by the same code the server runs (`easymlserve_ui::Preview`, drawn here).

use std::path::Path;

use easymlserve_ui::{FileValue, Input, InputKind, RawInput, Table};

use crate::outputs::{image_texture, plot_ui, table_ui};

/// A parsed file's [`easymlserve_ui::Preview`], ready to draw before submitting.
pub(crate) enum Preview {
    Image {
        image: egui::ColorImage,
        detail: String,
        texture: Option<egui::TextureHandle>,
    },
    Table {
        head: Table,
        rows: usize,
    },
    Series {
        plot: easymlserve_ui::Plot,
        rows: usize,
    },
    Info(String),
}

/// A chosen file: its bytes, and a preview or the error parsing it gave.
pub(crate) struct FileState {
    pub path: String,
    pub loaded: Option<FileValue>,
    pub preview: Option<Preview>,
}

/// What the user has entered for one input.
pub(crate) enum InputState {
    Text(String),
    Number(String),
    Range(f64),
    Choice(String),
    Choices(Vec<bool>),
    Check(bool),
    File(FileState),
    Dataframe(crate::dataframe::DataframeState),
}

impl InputState {
    /// The initial state of `input`, from its default.
    pub fn new(input: &Input) -> Self {
        match &input.kind {
            InputKind::Text { default, .. } | InputKind::TextLong { default, .. } => {
                Self::Text(default.clone().unwrap_or_default())
            }
            InputKind::Number { default, .. } => Self::Number(default.map(|d| d.to_string()).unwrap_or_default()),
            InputKind::Range { min, max, default, .. } => Self::Range(default.unwrap_or((min + max) / 2.0)),
            InputKind::SingleChoice { default, .. } => Self::Choice(default.clone().unwrap_or_default()),
            InputKind::MultipleChoice { choices, default } => {
                Self::Choices(choices.iter().map(|c| default.contains(c)).collect())
            }
            InputKind::Checkbox { default } => Self::Check(*default),
            InputKind::Dataframe { columns, rows, .. } => {
                Self::Dataframe(crate::dataframe::DataframeState::new(columns, rows))
            }
            _ => Self::File(FileState {
                path: String::new(),
                loaded: None,
                preview: None,
            }),
        }
    }

    /// The value as the web form would send it.
    pub fn to_raw(&self, input: &Input) -> RawInput {
        let one = |s: String| RawInput::Text(vec![s]);
        match (self, &input.kind) {
            (Self::Text(s) | Self::Number(s) | Self::Choice(s), _) => one(s.clone()),
            (Self::Range(x), _) => one(x.to_string()),
            (Self::Check(b), _) => one(b.to_string()),
            (Self::Choices(picked), InputKind::MultipleChoice { choices, .. }) => RawInput::Text(
                choices
                    .iter()
                    .zip(picked)
                    .filter(|(_, on)| **on)
                    .map(|(c, _)| c.clone())
                    .collect(),
            ),
            (Self::File(file), _) => file.loaded.clone().map_or(RawInput::Absent, RawInput::File),
            (Self::Choices(_), _) => RawInput::Absent,
            (Self::Dataframe(grid), _) => grid.to_raw(),
        }
    }

    /// The state that sends `raw` (an example's value for `input`): the inverse of `to_raw`. A file is
    /// parsed for its preview as if it had been loaded; a value that does not fit says so.
    pub fn from_raw(input: &Input, raw: &RawInput) -> Result<Self, String> {
        let mut state = Self::new(input);
        let first = |texts: &[String]| texts.first().cloned().unwrap_or_default();
        match (&mut state, raw, &input.kind) {
            (_, RawInput::Absent, _) => {}
            (Self::Text(s) | Self::Number(s) | Self::Choice(s), RawInput::Text(texts), _) => *s = first(texts),
            (Self::Range(x), RawInput::Text(texts), _) => {
                let text = first(texts);
                *x = text.trim().parse().map_err(|_| format!("`{text}` is not a number"))?;
            }
            (Self::Check(on), RawInput::Text(texts), _) => {
                *on = ["true", "on", "1", "yes"].contains(&first(texts).trim());
            }
            (Self::Choices(picked), RawInput::Text(texts), InputKind::MultipleChoice { choices, .. }) => {
                *picked = choices.iter().map(|c| texts.contains(c)).collect();
            }
            (Self::Dataframe(grid), RawInput::Text(texts), InputKind::Dataframe { columns, .. }) => {
                *grid = crate::dataframe::DataframeState::from_json(columns, &first(texts))?;
            }
            (Self::File(file), RawInput::File(value), _) => {
                file.preview = Some(preview_of(input, value.clone())?);
                file.path.clone_from(&value.name);
                file.loaded = Some(value.clone());
            }
            _ => return Err(format!("the example's value does not fit the input `{}`", input.name)),
        }
        Ok(state)
    }
}

/// Reads the file at `path` for `input` and parses it for a preview; the error names the problem.
pub(crate) fn load_file(input: &Input, path: &str) -> Result<(FileValue, Preview), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    let name = Path::new(path)
        .file_name()
        .map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned());
    let file = FileValue { name, bytes };
    let preview = preview_of(input, file.clone())?;
    Ok((file, preview))
}

/// Parses `file` for `input` as the server would, for the preview drawn under the input.
fn preview_of(input: &Input, file: FileValue) -> Result<Preview, String> {
    let (name, size) = (file.name.clone(), file.bytes.len());
    let parsed = easymlserve_ui::Preview::parse(input, RawInput::File(file)).map_err(|e| e.message)?;
    let preview = match parsed {
        Some(easymlserve_ui::Preview::Image { image, detail }) => Preview::Image {
            image: crate::outputs::decode_png(&image.png).ok_or("the preview cannot be drawn")?,
            detail,
            texture: None,
        },
        Some(easymlserve_ui::Preview::Table { table, rows }) => Preview::Table { head: table, rows },
        Some(easymlserve_ui::Preview::TimeSeries { plot, rows }) => Preview::Series { plot, rows },
        Some(easymlserve_ui::Preview::Audio { detail }) => Preview::Info(detail),
        Some(easymlserve_ui::Preview::File { name, size }) => Preview::Info(format!("{name}, {size} bytes")),
        None => Preview::Info(format!("{name}, {size} bytes")),
    };
    Ok(preview)
}

/// Draws one input; returns a message when a file was chosen or failed to load (for the field error).
pub(crate) fn input_ui(ui: &mut egui::Ui, input: &Input, state: &mut InputState) -> Option<Result<(), String>> {
    let title = if input.required && !matches!(input.kind, InputKind::Checkbox { .. }) {
        format!("{} *", input.label)
    } else {
        input.label.clone()
    };
    let label = if matches!(input.kind, InputKind::Checkbox { .. }) {
        None
    } else {
        Some(ui.strong(title))
    };
    if let Some(help) = &input.description {
        ui.weak(help);
    }
    let labelled = |response: egui::Response| match &label {
        Some(label) => response.labelled_by(label.id),
        None => response,
    };
    let mut file_event = None;
    match (state, &input.kind) {
        (InputState::Text(text), InputKind::TextLong { json, .. }) => {
            let mut edit = egui::TextEdit::multiline(text)
                .desired_rows(4)
                .desired_width(f32::INFINITY);
            if *json {
                edit = edit.code_editor();
            }
            labelled(ui.add(edit));
        }
        (InputState::Text(text), _) => {
            labelled(ui.add(egui::TextEdit::singleline(text).desired_width(f32::INFINITY)));
        }
        (InputState::Number(text), _) => {
            labelled(ui.add(egui::TextEdit::singleline(text).desired_width(160.0)));
        }
        (InputState::Range(value), InputKind::Range { min, max, step, .. }) => {
            labelled(ui.add(egui::Slider::new(value, *min..=*max).step_by(*step)));
        }
        (InputState::Choice(picked), InputKind::SingleChoice { choices, .. }) => {
            let shown = if picked.is_empty() {
                "Choose…".to_owned()
            } else {
                picked.clone()
            };
            let combo = egui::ComboBox::from_id_salt(&input.name)
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    for choice in choices {
                        ui.selectable_value(picked, choice.clone(), choice);
                    }
                });
            labelled(combo.response);
        }
        (InputState::Choices(picked), InputKind::MultipleChoice { choices, .. }) => {
            for (choice, on) in choices.iter().zip(picked.iter_mut()) {
                ui.checkbox(on, choice);
            }
        }
        (InputState::Check(on), _) => {
            ui.checkbox(on, &input.label);
        }
        (InputState::Dataframe(grid), InputKind::Dataframe { columns, .. }) => {
            crate::dataframe::dataframe_ui(ui, input, columns, grid)
        }
        (InputState::File(file), kind) => {
            if let Some(note) = crate::media::fallback_note(kind) {
                ui.weak(note);
            }
            file_event = file_ui(ui, input, kind, file)
        }
        _ => {
            ui.label("(this input has an unexpected state)");
        }
    }
    file_event
}

fn file_ui(ui: &mut egui::Ui, input: &Input, kind: &InputKind, file: &mut FileState) -> Option<Result<(), String>> {
    let mut event = None;
    ui.horizontal(|ui| {
        if ui.button("Choose file…").clicked() {
            let extensions = kind.accepted_extensions();
            let mut dialog = rfd::FileDialog::new().set_title(&input.label);
            if !extensions.is_empty() {
                dialog = dialog.add_filter(&input.label, &extensions);
            }
            match dialog.pick_file() {
                Some(path) => {
                    file.path = path.display().to_string();
                    event = Some(reload(input, file));
                }
                None => {
                    event = Some(Err(
                        "no file chosen (type the path below if no file dialog opens)".to_owned()
                    ))
                }
            }
        }
        // Right to left: the Load button keeps its place at the end, the path field takes the rest.
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            // It reads "Load", not "Load {label}" (a label like "Load CSV" made "Load Load CSV"); screen
            // readers and tests still tell the inputs' buttons apart by "Load file for {label}".
            let load_label = format!("Load file for {}", input.label);
            let load = ui.button("Load").on_hover_text(&load_label);
            load.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &load_label));
            let load = load.clicked();
            let path_label = format!("Path of {}", input.label);
            let path_edit = ui
                .add(
                    egui::TextEdit::singleline(&mut file.path)
                        .hint_text("or type a path")
                        .desired_width(ui.available_width()),
                )
                .on_hover_text(&path_label);
            path_edit.widget_info(|| egui::WidgetInfo::labeled(egui::Role::TextInput, true, &path_label));
            let enter = path_edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if load || enter {
                event = Some(reload(input, file));
            }
        });
    });
    if let Some(preview) = &mut file.preview {
        preview_ui(ui, &input.name, preview);
    }
    event
}

fn reload(input: &Input, file: &mut FileState) -> Result<(), String> {
    file.loaded = None;
    file.preview = None;
    let (value, preview) = load_file(input, file.path.trim())?;
    file.loaded = Some(value);
    file.preview = Some(preview);
    Ok(())
}

fn preview_ui(ui: &mut egui::Ui, name: &str, preview: &mut Preview) {
    match preview {
        Preview::Image { image, detail, texture } => {
            let texture =
                texture.get_or_insert_with(|| image_texture(ui.ctx(), &format!("preview-{name}"), image.clone()));
            let size = texture.size_vec2();
            let scale = (160.0 / size.y.max(1.0)).min(ui.available_width() / size.x.max(1.0));
            ui.add(egui::Image::new(&*texture).fit_to_exact_size(size * scale));
            ui.weak(detail.as_str());
        }
        Preview::Table { head, rows } => {
            table_ui(ui, &format!("preview-{name}"), head);
            ui.weak(format!("{rows} rows in the file"));
        }
        Preview::Series { plot, rows } => {
            plot_ui(ui, &format!("preview-{name}"), plot, 160.0);
            ui.weak(format!("{rows} rows in the file"));
        }
        Preview::Info(text) => {
            ui.weak(text.as_str());
        }
    }
}
