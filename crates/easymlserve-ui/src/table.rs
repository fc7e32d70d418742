//! Tables and time series parsed from uploaded CSV files, with errors that name the line; a table
//! output may say how its numeric columns are shown (digits and unit), which both GUIs follow.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::UiError;
use super::plot::{Plot, Series};
use super::time::parse_timestamp;

/// A table with a header row; cells are kept as text (numbers at full precision: the GUIs format them
/// for reading and copy the cell's text).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Table {
    /// Column names, from the header row.
    pub columns: Vec<String>,
    /// Rows of cells, each as long as `columns`.
    pub rows: Vec<Vec<String>>,
    /// How numeric columns are shown, by column name; a column not named here shows the digits its
    /// values need (the same for every cell, at most four) and no unit. Absent from old payloads.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub formats: BTreeMap<String, ColumnFormat>,
}

/// How the numbers of one table column are shown.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ColumnFormat {
    /// Digits after the decimal point; absent: the digits the column's values need, at most four.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<u8>,
    /// The unit, shown in the column's header (`MAE [MW]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

impl Table {
    /// A table of these columns and rows, with no column formats.
    pub fn new(columns: Vec<String>, rows: Vec<Vec<String>>) -> Self {
        Self {
            columns,
            rows,
            formats: BTreeMap::new(),
        }
    }

    /// Says how the numbers of `column` are shown: `precision` digits after the point (`None`: the
    /// digits its values need) and a `unit` for the header (empty: none).
    #[must_use]
    pub fn column_format(mut self, column: impl Into<String>, precision: Option<u8>, unit: impl Into<String>) -> Self {
        let unit = unit.into();
        self.formats.insert(
            column.into(),
            ColumnFormat {
                precision,
                unit: (!unit.is_empty()).then_some(unit),
            },
        );
        self
    }

    /// The format of a column, if the table names one.
    pub fn format_of(&self, column: &str) -> Option<&ColumnFormat> {
        self.formats.get(column)
    }

    /// Parses CSV text with a header row. The delimiter (`,`, `;` or tab) is taken from the header line.
    /// `field` names the input in errors.
    pub fn from_csv(bytes: &[u8], field: &str) -> Result<Self, UiError> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| UiError::field(field, format!("the file is not UTF-8 text ({e})")))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let header = text.lines().next().unwrap_or("");
        let delimiter = [b',', b';', b'\t']
            .into_iter()
            .max_by_key(|d| header.bytes().filter(|b| b == d).count())
            .unwrap_or(b',');
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(false)
            .from_reader(text.as_bytes());
        let columns: Vec<String> = reader
            .headers()
            .map_err(|e| UiError::field(field, format!("the header row cannot be read: {e}")))?
            .iter()
            .map(|c| c.trim().to_owned())
            .collect();
        if columns.is_empty() || columns.iter().all(String::is_empty) {
            return Err(UiError::field(field, "the file is empty: a header row is needed"));
        }
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                let detail = match e.kind() {
                    csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                        format!("expected {expected_len} fields like the header, found {len}")
                    }
                    _ => e.to_string(),
                };
                UiError::field(field, format!("line {line}: {detail}"))
            })?;
            rows.push(record.iter().map(|c| c.trim().to_owned()).collect());
        }
        Ok(Self::new(columns, rows))
    }

    /// The index of a column by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// Renders the table as CSV text with a header row.
    pub fn to_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let _ = writer.write_record(&self.columns);
        for row in &self.rows {
            let _ = writer.write_record(row);
        }
        String::from_utf8(writer.into_inner().unwrap_or_default()).unwrap_or_default()
    }

    /// The first `n` rows, for previews.
    #[must_use]
    pub fn head(&self, n: usize) -> Self {
        Self {
            columns: self.columns.clone(),
            rows: self.rows.iter().take(n).cloned().collect(),
            formats: self.formats.clone(),
        }
    }
}

/// A time series: a timestamp column followed by numeric columns, in strictly increasing time order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TimeSeries {
    /// Name of the timestamp column (the first).
    pub time_column: String,
    /// The timestamps as written in the file.
    pub times: Vec<String>,
    /// The timestamps as milliseconds since the epoch (UTC; timestamps without offset are read as UTC).
    pub epoch_ms: Vec<i64>,
    /// Names of the value columns.
    pub columns: Vec<String>,
    /// Values, one vector per column.
    pub values: Vec<Vec<f64>>,
}

impl TimeSeries {
    /// Parses a CSV whose first column is a timestamp and whose other columns are numbers.
    pub fn from_csv(bytes: &[u8], field: &str) -> Result<Self, UiError> {
        Self::from_table(&Table::from_csv(bytes, field)?, field)
    }

    /// Reads a parsed table as a time series; errors name the line (the header is line 1).
    pub fn from_table(table: &Table, field: &str) -> Result<Self, UiError> {
        if table.columns.len() < 2 {
            return Err(UiError::field(
                field,
                "a time series needs a timestamp column and at least one value column",
            ));
        }
        if table.rows.is_empty() {
            return Err(UiError::field(field, "the file has a header but no rows"));
        }
        let mut series = Self {
            time_column: table.columns[0].clone(),
            columns: table.columns[1..].to_vec(),
            values: vec![Vec::with_capacity(table.rows.len()); table.columns.len() - 1],
            ..Self::default()
        };
        for (index, row) in table.rows.iter().enumerate() {
            let line = index + 2;
            let at = parse_timestamp(&row[0])
                .ok_or_else(|| UiError::field(field, format!("line {line}: `{}` is not a date and time", row[0])))?;
            if let Some(previous) = series.epoch_ms.last() {
                if at <= *previous {
                    return Err(UiError::field(
                        field,
                        format!(
                            "line {line}: `{}` is not after the previous timestamp; rows must be in time order",
                            row[0]
                        ),
                    ));
                }
            }
            series.times.push(row[0].clone());
            series.epoch_ms.push(at);
            for (column, cell) in row[1..].iter().enumerate() {
                let value = cell.parse::<f64>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                    UiError::field(
                        field,
                        format!(
                            "line {line}: `{}` value `{cell}` is not a number",
                            series.columns[column]
                        ),
                    )
                })?;
                series.values[column].push(value);
            }
        }
        Ok(series)
    }

    /// The values of a column by name.
    pub fn column(&self, name: &str) -> Option<&[f64]> {
        self.columns
            .iter()
            .position(|c| c == name)
            .map(|i| self.values[i].as_slice())
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// A line plot of every column over time, for previews.
    pub fn to_plot(&self, title: impl Into<String>) -> Plot {
        let x: Vec<f64> = self.epoch_ms.iter().map(|t| *t as f64).collect();
        let mut plot = Plot::new(title).labels(self.time_column.clone(), "").time_axis();
        for (name, values) in self.columns.iter().zip(&self.values) {
            plot = plot.series(Series::line(name.clone(), x.clone(), values.clone()));
        }
        plot
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_without_formats_still_parses_and_formats_round_trip() {
        let old: Table = serde_json::from_str(r#"{"columns":["MAE"],"rows":[["2.3"],["2"]]}"#).unwrap();
        assert!(old.formats.is_empty());
        assert_eq!(
            serde_json::to_string(&old).unwrap(),
            r#"{"columns":["MAE"],"rows":[["2.3"],["2"]]}"#
        );
        let table = old.column_format("MAE", Some(1), "MW").column_format("n", None, "");
        let json = serde_json::to_value(&table).unwrap();
        assert_eq!(
            json["formats"]["MAE"],
            serde_json::json!({"precision": 1, "unit": "MW"})
        );
        assert_eq!(json["formats"]["n"], serde_json::json!({}));
        let back: Table = serde_json::from_value(json).unwrap();
        assert_eq!(back, table);
        assert_eq!(back.format_of("MAE").and_then(|f| f.unit.as_deref()), Some("MW"));
        assert_eq!(back.head(1).formats, table.formats);
    }
}
