//! The request fields a `time_series_csv` override fills, and its input: the checks that keep a bad
//! `fills` (missing, empty, not strings, naming no field, or a field another CSV fills) an error naming
//! the field when the GUI is built, instead of a panic then or on submit (issue 17 item 1, review F2).

use serde_json::{Map, Value};

use super::{Binding, Encoding, Target, binding};
use crate::widget::{WIDGET_KEY, Widget};
use crate::{Input, UiError};

/// The fields a `time_series_csv` override on `field` (`""`: the request root) fills, checked: at
/// least one, each a request field filled by no other input. A field-level override without `fills`
/// fills the field itself. Each is recorded in `filled` with `by`, the input that fills it.
pub(super) fn checked_fills(
    w: &Widget,
    field: &str,
    properties: &Map<String, Value>,
    filled: &mut Vec<(String, String)>,
    by: &str,
) -> Result<Vec<String>, UiError> {
    let (at, err_field) = if field.is_empty() {
        ("the request".to_owned(), WIDGET_KEY)
    } else {
        (format!("request field `{field}`"), field)
    };
    let fills = match w.options.get("fills") {
        None if !field.is_empty() => vec![field.to_owned()],
        _ => w.texts("fills").filter(|f| !f.is_empty()).ok_or_else(|| {
            UiError::field(
                err_field,
                format!("{at}: `fills` needs at least one request field (a list of field names)"),
            )
        })?,
    };
    for f in &fills {
        if !properties.contains_key(f.as_str()) {
            return Err(UiError::field(
                f,
                format!("{at}: `fills` names `{f}`, which is no request field"),
            ));
        }
        if let Some((_, other)) = filled.iter().find(|(g, _)| g == f) {
            return Err(UiError::field(
                f,
                format!("{at}: `fills` names `{f}`, which the CSV `{other}` already fills"),
            ));
        }
    }
    filled.extend(fills.iter().map(|f| (f.clone(), by.to_owned())));
    Ok(fills)
}

pub(super) fn csv_binding(name: &str, w: &Widget, fills: Vec<String>) -> Binding {
    let label = w.text("label").map_or_else(|| "CSV file".to_owned(), str::to_owned);
    let help = w.text("description").map_or_else(
        || match fills.split_first() {
            Some((time, values)) if !values.is_empty() => format!(
                "A CSV with a header row: first column the time (for `{time}`), then {}.",
                values.join(", ")
            ),
            _ => format!("A CSV with a header row whose first column (the time) fills `{name}`."),
        },
        str::to_owned,
    );
    let input = Input::time_series_csv_file(name, label).description(help);
    binding(input, name, Target::Field(name.to_owned()), Encoding::Fills(fills))
}
