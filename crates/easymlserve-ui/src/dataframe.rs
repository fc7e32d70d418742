//! The `Dataframe` input: an editable table with typed columns. Its spec (columns, initial rows, row
//! bounds), its typed value, and the parsing of what a GUI sends (a JSON array of rows, cells as typed
//! or as the text a user typed or pasted), with errors that name the column and the row.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::UiError;
use super::inputs::{Input, InputKind};

/// Most cells a dataframe input accepts.
pub const MAX_DATAFRAME_CELLS: usize = 100_000;

/// The type of a dataframe column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// Any finite number.
    Number,
    /// A whole number.
    Integer,
    /// Any text.
    Text,
    /// True or false.
    Bool,
}

/// One column of a dataframe: a name and a type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The header, and the key of the column in [`DataframeValue::to_records`].
    pub name: String,
    /// What its cells hold.
    #[serde(rename = "type")]
    pub kind: ColumnType,
}

impl Column {
    /// A column of numbers.
    pub fn number(name: impl Into<String>) -> Self {
        Self::of(name, ColumnType::Number)
    }

    /// A column of whole numbers.
    pub fn integer(name: impl Into<String>) -> Self {
        Self::of(name, ColumnType::Integer)
    }

    /// A column of text.
    pub fn text(name: impl Into<String>) -> Self {
        Self::of(name, ColumnType::Text)
    }

    /// A column of true/false.
    pub fn bool(name: impl Into<String>) -> Self {
        Self::of(name, ColumnType::Bool)
    }

    /// A column of `kind`.
    pub fn of(name: impl Into<String>, kind: ColumnType) -> Self {
        Self {
            name: name.into(),
            kind,
        }
    }
}

/// One typed cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Cell {
    /// A whole number.
    Integer(i64),
    /// A number.
    Number(f64),
    /// True or false.
    Bool(bool),
    /// Text.
    Text(String),
}

impl Cell {
    /// The cell as a number (integers too).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(x) => Some(*x),
            Self::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Self::Integer(i) => Value::from(*i),
            Self::Number(x) => Value::from(*x),
            Self::Bool(b) => Value::Bool(*b),
            Self::Text(t) => Value::String(t.clone()),
        }
    }
}

/// The typed value of a dataframe input: its columns and rows, each row one cell per column.
#[derive(Debug, Clone, PartialEq)]
pub struct DataframeValue {
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The rows; every row has one cell per column, of the column's type.
    pub rows: Vec<Vec<Cell>>,
}

impl DataframeValue {
    /// The index of a column by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The cells of a column by name.
    pub fn column(&self, name: &str) -> Option<Vec<&Cell>> {
        let i = self.column_index(name)?;
        Some(self.rows.iter().map(|r| &r[i]).collect())
    }

    /// The values of a number or integer column by name.
    pub fn numbers(&self, name: &str) -> Option<Vec<f64>> {
        self.column(name)?.into_iter().map(Cell::as_f64).collect()
    }

    /// The rows as JSON objects keyed by column name (the shape of an array-of-objects request field).
    pub fn to_records(&self) -> Value {
        let rows = self.rows.iter().map(|row| {
            let object = self
                .columns
                .iter()
                .zip(row)
                .map(|(c, cell)| (c.name.clone(), cell.to_json()))
                .collect();
            Value::Object(object)
        });
        Value::Array(rows.collect())
    }
}

impl Input {
    /// An editable table with `columns`; set rows with [`Input::rows`], bounds with [`Input::row_bounds`].
    pub fn dataframe(name: impl Into<String>, label: impl Into<String>, columns: Vec<Column>) -> Self {
        let kind = InputKind::Dataframe {
            columns,
            rows: Vec::new(),
            min_rows: None,
            max_rows: None,
        };
        Self::new(name, label, kind)
    }

    /// Sets the initial rows of a `Dataframe` (one JSON cell per column).
    #[must_use]
    pub fn rows(mut self, initial: Vec<Vec<serde_json::Value>>) -> Self {
        if let InputKind::Dataframe { rows, .. } = &mut self.kind {
            *rows = initial;
        }
        self
    }

    /// Sets the fewest and most rows of a `Dataframe`.
    #[must_use]
    pub fn row_bounds(mut self, min: Option<usize>, max: Option<usize>) -> Self {
        if let InputKind::Dataframe { min_rows, max_rows, .. } = &mut self.kind {
            (*min_rows, *max_rows) = (min, max);
        }
        self
    }
}

/// Parses the JSON text a GUI sent for a dataframe: an array of rows, each an array of cells (JSON
/// numbers, booleans, or the text typed) or an object keyed by column name. A row left wholly empty
/// is dropped. `field` names the input in errors, `label` is what the user reads.
pub(crate) fn parse_rows(
    columns: &[Column],
    bounds: (Option<usize>, Option<usize>),
    text: &str,
    field: &str,
    label: &str,
) -> Result<DataframeValue, UiError> {
    let fail = |message: String| UiError::field(field, format!("{label}: {message}"));
    let raw: Value = serde_json::from_str(text).map_err(|e| fail(format!("the table is not valid JSON: {e}")))?;
    let Value::Array(raw_rows) = raw else {
        return Err(fail("the table must be a JSON array of rows".to_owned()));
    };
    if raw_rows.len().saturating_mul(columns.len().max(1)) > MAX_DATAFRAME_CELLS {
        return Err(fail(format!("the table has more than {MAX_DATAFRAME_CELLS} cells")));
    }
    let mut rows = Vec::with_capacity(raw_rows.len());
    for (index, raw_row) in raw_rows.iter().enumerate() {
        let number = index + 1;
        let cells: Vec<&Value> = match raw_row {
            Value::Array(cells) if cells.len() == columns.len() => cells.iter().collect(),
            Value::Array(cells) => {
                return Err(fail(format!(
                    "row {number} has {} cells, the table has {} columns",
                    cells.len(),
                    columns.len()
                )));
            }
            Value::Object(object) => columns
                .iter()
                .map(|c| object.get(&c.name).unwrap_or(&Value::Null))
                .collect(),
            _ => return Err(fail(format!("row {number} is not a list of cells"))),
        };
        if cells.iter().all(|c| is_blank(c)) {
            continue;
        }
        let typed = columns
            .iter()
            .zip(cells)
            .map(|(column, cell)| {
                typed_cell(column.kind, cell)
                    .map_err(|why| fail(format!("column `{}`, row {number}: {why}", column.name)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        rows.push(typed);
    }
    let (min, max) = bounds;
    if let Some(min) = min.filter(|m| rows.len() < *m) {
        return Err(fail(format!("at least {min} rows are needed, got {}", rows.len())));
    }
    if let Some(max) = max.filter(|m| rows.len() > *m) {
        return Err(fail(format!("at most {max} rows are allowed, got {}", rows.len())));
    }
    Ok(DataframeValue {
        columns: columns.to_vec(),
        rows,
    })
}

fn is_blank(cell: &Value) -> bool {
    match cell {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn typed_cell(kind: ColumnType, cell: &Value) -> Result<Cell, String> {
    let text = match cell {
        Value::String(s) => Some(s.trim()),
        _ => None,
    };
    match kind {
        ColumnType::Text => Ok(Cell::Text(match cell {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        })),
        ColumnType::Number => match (cell, text) {
            (Value::Number(n), _) => n.as_f64().map(Cell::Number).ok_or_else(|| "not a number".to_owned()),
            (_, Some("")) | (Value::Null, _) => Err("a number is needed, the cell is empty".to_owned()),
            (_, Some(t)) => t
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Cell::Number)
                .ok_or_else(|| format!("`{t}` is not a number")),
            _ => Err(format!("{cell} is not a number")),
        },
        ColumnType::Integer => {
            let whole = |x: f64| {
                (x.fract() == 0.0 && x.abs() < 9.0e15)
                    .then_some(Cell::Integer(x as i64))
                    .ok_or_else(|| format!("`{x}` is not a whole number"))
            };
            match (cell, text) {
                (Value::Number(n), _) => n
                    .as_i64()
                    .map(Cell::Integer)
                    .map_or_else(|| whole(n.as_f64().unwrap_or(0.5)), Ok),
                (_, Some("")) | (Value::Null, _) => Err("a whole number is needed, the cell is empty".to_owned()),
                (_, Some(t)) => match t.parse::<i64>() {
                    Ok(i) => Ok(Cell::Integer(i)),
                    Err(_) => t
                        .parse::<f64>()
                        .map_err(|_| format!("`{t}` is not a whole number"))
                        .and_then(whole),
                },
                _ => Err(format!("{cell} is not a whole number")),
            }
        }
        ColumnType::Bool => match (cell, text.map(str::to_ascii_lowercase).as_deref()) {
            (Value::Bool(b), _) => Ok(Cell::Bool(*b)),
            (_, Some("true" | "yes" | "1" | "on" | "x")) => Ok(Cell::Bool(true)),
            (_, Some("false" | "no" | "0" | "off" | "")) | (Value::Null, _) => Ok(Cell::Bool(false)),
            _ => Err(format!("{cell} is not true or false")),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn columns() -> Vec<Column> {
        vec![
            Column::text("city"),
            Column::integer("year"),
            Column::number("load"),
            Column::bool("holiday"),
        ]
    }

    #[test]
    fn typed_and_typed_in_cells_become_the_column_types_and_blank_rows_go() {
        let text = r#"[["Kiel", "2021", " 3.5 ", "yes"], ["Bonn", 2022, 4, false], ["", "", "", ""], {"city": "Ulm", "year": 7, "load": -1e3}]"#;
        let value = parse_rows(&columns(), (None, None), text, "t", "Table").unwrap();
        assert_eq!(value.rows.len(), 3);
        assert_eq!(
            value.rows[0],
            vec![
                Cell::Text("Kiel".into()),
                Cell::Integer(2021),
                Cell::Number(3.5),
                Cell::Bool(true)
            ]
        );
        assert_eq!(value.numbers("load"), Some(vec![3.5, 4.0, -1000.0]));
        assert_eq!(value.numbers("city"), None);
        assert_eq!(
            value.to_records()[1],
            serde_json::json!({"city": "Bonn", "year": 2022, "load": 4.0, "holiday": false})
        );
    }

    #[test]
    fn a_bad_cell_names_its_column_and_row_and_bounds_are_checked() {
        let bad = |text: &str, bounds| parse_rows(&columns(), bounds, text, "t", "Table").unwrap_err();
        let err = bad(r#"[["a", 1, 2, true], ["b", "2.5", 1, true]]"#, (None, None));
        assert_eq!(err.field.as_deref(), Some("t"));
        assert!(
            err.message
                .contains("column `year`, row 2: `2.5` is not a whole number"),
            "{}",
            err.message
        );
        let err = bad(r#"[["a", 1, "lots", true]]"#, (None, None));
        assert!(
            err.message.contains("column `load`, row 1: `lots` is not a number"),
            "{}",
            err.message
        );
        let err = bad(r#"[["a", 1, "", true]]"#, (None, None));
        assert!(
            err.message.contains("column `load`, row 1: a number is needed"),
            "{}",
            err.message
        );
        let err = bad(r#"[["a", 1, 2, "maybe"]]"#, (None, None));
        assert!(err.message.contains("column `holiday`"), "{}", err.message);
        let err = bad(r#"[["a", 1, 2]]"#, (None, None));
        assert!(
            err.message.contains("row 1 has 3 cells, the table has 4 columns"),
            "{}",
            err.message
        );
        let err = bad(r#"[["a", 1, 2, true]]"#, (Some(2), None));
        assert!(err.message.contains("at least 2 rows"), "{}", err.message);
        let err = bad(r#"[["a", 1, 2, true], ["b", 1, 2, true]]"#, (None, Some(1)));
        assert!(err.message.contains("at most 1 rows"), "{}", err.message);
        assert!(bad("{", (None, None)).message.contains("not valid JSON"));
        assert!(bad("{}", (None, None)).message.contains("array of rows"));
    }
}
