//! The Dataframe input in the desktop GUI: an editable grid (one text field per cell, a checkbox for a
//! bool column) with add and remove row, where text pasted into a cell that holds tabs or line breaks
//! (a block copied from a spreadsheet) fills the rows and columns from that cell on. The cells go to
//! the same parser as the web page's (a JSON array of rows of the typed text).

use easymlserve_ui::{Column, ColumnType, Input, RawInput};

/// The cells as typed, and which cell had the keyboard focus last frame (where a paste lands).
pub(crate) struct DataframeState {
    pub rows: Vec<Vec<String>>,
    focus: Option<(usize, usize)>,
}

impl DataframeState {
    /// The initial rows of the spec (or one empty row), as text.
    pub fn new(columns: &[Column], initial: &[Vec<serde_json::Value>]) -> Self {
        let text = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        let mut rows: Vec<Vec<String>> = initial
            .iter()
            .map(|r| {
                (0..columns.len())
                    .map(|i| r.get(i).map(text).unwrap_or_default())
                    .collect()
            })
            .collect();
        if rows.is_empty() {
            rows.push(vec![String::new(); columns.len()]);
        }
        Self { rows, focus: None }
    }

    /// The grid of a JSON text as an example gives it: an array of rows, each an array of cells in
    /// column order or an object of cells by column name.
    pub fn from_json(columns: &[Column], text: &str) -> Result<Self, String> {
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(text).map_err(|e| format!("the example's table is not a JSON array of rows: {e}"))?;
        let rows: Vec<Vec<serde_json::Value>> = rows
            .into_iter()
            .map(|row| match row {
                serde_json::Value::Array(cells) => cells,
                serde_json::Value::Object(mut cells) => columns
                    .iter()
                    .map(|c| cells.remove(&c.name).unwrap_or(serde_json::Value::Null))
                    .collect(),
                other => vec![other],
            })
            .collect();
        Ok(Self::new(columns, &rows))
    }

    /// The rows as the web page sends them.
    pub fn to_raw(&self) -> RawInput {
        RawInput::Text(vec![serde_json::to_string(&self.rows).unwrap_or_default()])
    }

    /// Spreads tab-separated `text` over the grid from cell (`row`, `col`) on, adding rows as needed.
    pub fn paste(&mut self, row: usize, col: usize, text: &str, width: usize) {
        let lines: Vec<&str> = text.trim_end_matches(['\n', '\r']).lines().collect();
        for (i, line) in lines.iter().enumerate() {
            while self.rows.len() <= row + i {
                self.rows.push(vec![String::new(); width]);
            }
            for (j, cell) in line.trim_end_matches('\r').split('\t').enumerate() {
                if let Some(slot) = self.rows[row + i].get_mut(col + j) {
                    cell.trim().clone_into(slot);
                }
            }
        }
    }
}

/// Draws the grid of `input` (whose kind is `Dataframe` with `columns`).
pub(crate) fn dataframe_ui(ui: &mut egui::Ui, input: &Input, columns: &[Column], state: &mut DataframeState) {
    // A block pasted into the focused cell is spread over the grid instead of typed into that cell.
    if let Some((row, col)) = state.focus {
        let block = ui.input(|i| {
            i.events.iter().find_map(|e| match e {
                egui::Event::Paste(text) if text.contains(['\t', '\n']) => Some(text.clone()),
                _ => None,
            })
        });
        if let Some(text) = block {
            ui.ctx()
                .input_mut(|i| i.events.retain(|e| !matches!(e, egui::Event::Paste(_))));
            state.paste(row, col, &text, columns.len());
        }
    }
    let mut remove = None;
    let mut focus = None;
    egui::ScrollArea::horizontal()
        .id_salt(format!("df-{}", input.name))
        .show(ui, |ui| {
            egui::Grid::new(format!("grid-{}", input.name))
                .striped(true)
                .show(ui, |ui| {
                    ui.weak("#");
                    for column in columns {
                        ui.strong(&column.name).on_hover_text(type_name(column.kind));
                    }
                    ui.end_row();
                    for (r, row) in state.rows.iter_mut().enumerate() {
                        ui.weak((r + 1).to_string());
                        for (c, (column, cell)) in columns.iter().zip(row.iter_mut()).enumerate() {
                            let label = format!("{} row {}", column.name, r + 1);
                            let response = if column.kind == ColumnType::Bool {
                                let mut on = matches!(
                                    cell.trim().to_ascii_lowercase().as_str(),
                                    "true" | "yes" | "1" | "on" | "x"
                                );
                                let response = ui.checkbox(&mut on, "");
                                if response.changed() {
                                    *cell = if on { "true".to_owned() } else { String::new() };
                                }
                                response
                            } else {
                                ui.add(
                                    egui::TextEdit::singleline(cell)
                                        .desired_width(90.0)
                                        .hint_text(type_name(column.kind)),
                                )
                            };
                            response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::TextInput, true, &label));
                            if response.has_focus() {
                                focus = Some((r, c));
                            }
                        }
                        if ui
                            .small_button("Remove")
                            .on_hover_text(format!("Remove row {}", r + 1))
                            .clicked()
                        {
                            remove = Some(r);
                        }
                        ui.end_row();
                    }
                });
        });
    if focus.is_some() || !ui.memory(|m| m.focused().is_some()) {
        state.focus = focus;
    }
    if let Some(r) = remove {
        state.rows.remove(r);
    }
    ui.horizontal(|ui| {
        if ui.button("Add row").clicked() {
            state.rows.push(vec![String::new(); columns.len()]);
        }
        ui.weak(format!(
            "{} rows · paste a block copied from a spreadsheet into a cell",
            state.rows.len()
        ));
    });
}

fn type_name(kind: ColumnType) -> &'static str {
    match kind {
        ColumnType::Number => "number",
        ColumnType::Integer => "integer",
        ColumnType::Text => "text",
        ColumnType::Bool => "true/false",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn an_examples_table_fills_the_grid_from_rows_or_records() {
        let columns = [Column::text("day"), Column::number("load")];
        let rows = DataframeState::from_json(&columns, r#"[["Mon", 4.5], ["Tue", null]]"#).unwrap();
        assert_eq!(rows.rows, [["Mon", "4.5"], ["Tue", ""]]);
        let records = DataframeState::from_json(&columns, r#"[{"load": 3, "day": "Wed"}]"#).unwrap();
        assert_eq!(records.rows, [["Wed", "3"]]);
        let err = DataframeState::from_json(&columns, "Mon,4.5").err().unwrap();
        assert!(err.contains("not a JSON array of rows"), "{err}");
    }
}
