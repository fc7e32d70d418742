//! Values of inputs (what the UI code reads) and outputs (what it returns), and the parsing of raw form
//! data into typed input values, shared by the web and desktop GUIs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::UiError;
use super::bytes::b64;
use super::image::{ImageOutput, ImageValue};
use super::inputs::{Input, InputKind};
use super::plot::Plot;
use super::table::{Table, TimeSeries};

/// An uploaded file as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileValue {
    /// The file name the user picked (not a path on the server).
    pub name: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

/// What a GUI collected for one input, before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawInput {
    /// Nothing was sent.
    Absent,
    /// Text fields (several for a multiple choice).
    Text(Vec<String>),
    /// An uploaded file.
    File(FileValue),
}

/// The typed value of one input.
#[derive(Debug, Clone, PartialEq)]
pub enum InputValue {
    /// An optional input left empty.
    Empty,
    /// Text, or a single choice.
    Text(String),
    /// A number or a range.
    Number(f64),
    /// The chosen options of a multiple choice.
    Choices(Vec<String>),
    /// A checkbox.
    Bool(bool),
    /// Any file.
    File(FileValue),
    /// A decoded image.
    Image(ImageValue),
    /// A parsed CSV table.
    Table(Table),
    /// A parsed time series.
    TimeSeries(TimeSeries),
}

impl Input {
    /// Parses what a GUI collected for this input, checking bounds, choices and file contents.
    pub fn parse(&self, raw: RawInput) -> Result<InputValue, UiError> {
        let name = self.name.as_str();
        let missing = || UiError::field(name, format!("{} is required", self.label));
        let texts = match raw {
            RawInput::File(file) => return self.parse_file(file),
            RawInput::Absent => Vec::new(),
            RawInput::Text(texts) => texts,
        };
        if self.kind.is_file() {
            return if self.required {
                Err(missing())
            } else {
                Ok(InputValue::Empty)
            };
        }
        let first = texts.first().map(|t| t.trim()).unwrap_or("");
        match &self.kind {
            InputKind::Checkbox { .. } => return Ok(InputValue::Bool(matches!(first, "true" | "on" | "1" | "yes"))),
            InputKind::MultipleChoice { choices, .. } => {
                let picked: Vec<String> = texts.into_iter().filter(|t| !t.is_empty()).collect();
                if let Some(bad) = picked.iter().find(|p| !choices.contains(p)) {
                    return Err(UiError::field(
                        name,
                        format!("`{bad}` is not one of the options of {}", self.label),
                    ));
                }
                if picked.is_empty() && self.required {
                    return Err(UiError::field(
                        name,
                        format!("choose at least one option of {}", self.label),
                    ));
                }
                return Ok(InputValue::Choices(picked));
            }
            _ => {}
        }
        if first.is_empty() && !matches!(self.kind, InputKind::Text { .. } | InputKind::TextLong { .. }) {
            return if self.required {
                Err(missing())
            } else {
                Ok(InputValue::Empty)
            };
        }
        match &self.kind {
            InputKind::Text { .. } | InputKind::TextLong { json: false, .. } => {
                let text = texts.into_iter().next().unwrap_or_default();
                match (text.is_empty(), self.required) {
                    (true, true) => Err(missing()),
                    (true, false) => Ok(InputValue::Empty),
                    _ => Ok(InputValue::Text(text)),
                }
            }
            InputKind::TextLong { json: true, .. } => match (first.is_empty(), self.required) {
                (true, true) => Err(missing()),
                (true, false) => Ok(InputValue::Empty),
                _ => serde_json::from_str::<serde_json::Value>(first)
                    .map(|_| InputValue::Text(first.to_owned()))
                    .map_err(|e| UiError::field(name, format!("{} is not valid JSON: {e}", self.label))),
            },
            InputKind::Number { integer, min, max, .. } => {
                let x = self.parse_number(first)?;
                if *integer && x.fract() != 0.0 {
                    return Err(UiError::field(
                        name,
                        format!("{} must be a whole number, got {first}", self.label),
                    ));
                }
                self.check_bounds(x, *min, *max)
            }
            InputKind::Range { min, max, .. } => {
                let x = self.parse_number(first)?;
                self.check_bounds(x, Some(*min), Some(*max))
            }
            InputKind::SingleChoice { choices, .. } => {
                if choices.iter().any(|c| c == first) {
                    Ok(InputValue::Text(first.to_owned()))
                } else {
                    Err(UiError::field(
                        name,
                        format!("`{first}` is not one of the options of {}", self.label),
                    ))
                }
            }
            _ => Err(missing()),
        }
    }

    fn parse_number(&self, text: &str) -> Result<f64, UiError> {
        text.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| UiError::field(&self.name, format!("{} must be a number, got `{text}`", self.label)))
    }

    fn check_bounds(&self, x: f64, min: Option<f64>, max: Option<f64>) -> Result<InputValue, UiError> {
        if let Some(min) = min.filter(|m| x < *m) {
            return Err(UiError::field(
                &self.name,
                format!("{} must be at least {min}, got {x}", self.label),
            ));
        }
        if let Some(max) = max.filter(|m| x > *m) {
            return Err(UiError::field(
                &self.name,
                format!("{} must be at most {max}, got {x}", self.label),
            ));
        }
        Ok(InputValue::Number(x))
    }

    fn parse_file(&self, file: FileValue) -> Result<InputValue, UiError> {
        let name = self.name.as_str();
        if !self.kind.is_file() {
            return Err(UiError::field(
                name,
                format!("{} takes a value, not a file", self.label),
            ));
        }
        if file.bytes.is_empty() {
            return if self.required {
                Err(UiError::field(
                    name,
                    format!("{}: the file `{}` is empty", self.label, file.name),
                ))
            } else {
                Ok(InputValue::Empty)
            };
        }
        let extensions = self.kind.accepted_extensions();
        let extension = file
            .name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        if let InputKind::File { .. } = self.kind {
            if !extensions.is_empty() && !extensions.contains(&extension) {
                let wanted = extensions.join(", ");
                return Err(UiError::field(
                    name,
                    format!("{}: `{}` is not one of: {wanted}", self.label, file.name),
                ));
            }
        }
        match self.kind {
            InputKind::ImageFile => ImageValue::decode(&file.bytes, name).map(InputValue::Image),
            InputKind::CsvFile => Table::from_csv(&file.bytes, name).map(InputValue::Table),
            InputKind::TimeSeriesCsvFile => TimeSeries::from_csv(&file.bytes, name).map(InputValue::TimeSeries),
            _ => Ok(InputValue::File(file)),
        }
    }
}

/// The parsed values of a form, by input name, with typed getters whose errors name the input.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InputValues(BTreeMap<String, InputValue>);

impl InputValues {
    /// An empty set of values.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the value of an input.
    pub fn insert(&mut self, name: impl Into<String>, value: InputValue) {
        self.0.insert(name.into(), value);
    }

    /// Sets the value of an input, builder style.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: InputValue) -> Self {
        self.insert(name, value);
        self
    }

    /// The raw value of an input.
    pub fn get(&self, name: &str) -> Option<&InputValue> {
        self.0.get(name)
    }

    fn expect<'a, T>(
        &'a self,
        name: &str,
        what: &str,
        pick: impl FnOnce(&'a InputValue) -> Option<T>,
    ) -> Result<T, UiError> {
        let value = self
            .0
            .get(name)
            .ok_or_else(|| UiError::field(name, format!("`{name}` has no value")))?;
        pick(value).ok_or_else(|| UiError::field(name, format!("`{name}` is not {what}")))
    }

    /// Text or a single choice; `None` when the optional input was left empty.
    pub fn text(&self, name: &str) -> Result<Option<&str>, UiError> {
        self.expect(name, "text", |v| match v {
            InputValue::Text(t) => Some(Some(t.as_str())),
            InputValue::Empty => Some(None),
            _ => None,
        })
    }

    /// A number or range value; `None` when left empty.
    pub fn number(&self, name: &str) -> Result<Option<f64>, UiError> {
        self.expect(name, "a number", |v| match v {
            InputValue::Number(x) => Some(Some(*x)),
            InputValue::Empty => Some(None),
            _ => None,
        })
    }

    /// The chosen options of a multiple choice.
    pub fn choices(&self, name: &str) -> Result<&[String], UiError> {
        self.expect(name, "a multiple choice", |v| match v {
            InputValue::Choices(c) => Some(c.as_slice()),
            _ => None,
        })
    }

    /// A checkbox.
    pub fn checked(&self, name: &str) -> Result<bool, UiError> {
        self.expect(name, "a checkbox", |v| match v {
            InputValue::Bool(b) => Some(*b),
            _ => None,
        })
    }

    /// A plain file.
    pub fn file(&self, name: &str) -> Result<&FileValue, UiError> {
        self.expect(name, "a file", |v| match v {
            InputValue::File(f) => Some(f),
            _ => None,
        })
    }

    /// A decoded image.
    pub fn image(&self, name: &str) -> Result<&ImageValue, UiError> {
        self.expect(name, "an image", |v| match v {
            InputValue::Image(i) => Some(i),
            _ => None,
        })
    }

    /// A parsed CSV table.
    pub fn table(&self, name: &str) -> Result<&Table, UiError> {
        self.expect(name, "a table", |v| match v {
            InputValue::Table(t) => Some(t),
            _ => None,
        })
    }

    /// A parsed time series.
    pub fn time_series(&self, name: &str) -> Result<&TimeSeries, UiError> {
        self.expect(name, "a time series", |v| match v {
            InputValue::TimeSeries(t) => Some(t),
            _ => None,
        })
    }
}

/// A file offered for download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileOutput {
    /// Suggested file name (sanitised when sent).
    pub name: String,
    /// MIME type, such as `text/csv`.
    pub mime: String,
    /// The contents.
    #[serde(with = "b64")]
    pub data: Vec<u8>,
}

impl FileOutput {
    /// A file with any contents.
    pub fn new(name: impl Into<String>, mime: impl Into<String>, data: Vec<u8>) -> Self {
        Self {
            name: sanitize_file_name(&name.into()),
            mime: mime.into(),
            data,
        }
    }

    /// A CSV file.
    pub fn csv(name: impl Into<String>, text: String) -> Self {
        Self::new(name, "text/csv", text.into_bytes())
    }

    /// A pretty-printed JSON file.
    pub fn json(name: impl Into<String>, value: &serde_json::Value) -> Self {
        Self::new(
            name,
            "application/json",
            serde_json::to_vec_pretty(value).unwrap_or_default(),
        )
    }
}

/// Keeps letters, digits, `.`, `-` and `_`; everything else (path separators too) becomes `_`.
pub fn sanitize_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let clean = clean.trim_start_matches('.').chars().take(128).collect::<String>();
    if clean.is_empty() { "download".to_owned() } else { clean }
}

/// The value of one output, tagged with its kind on the wire: `{"kind": "plot", "value": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum OutputValue {
    /// A plot.
    Plot(Plot),
    /// An image, with an optional overlay.
    Image(ImageOutput),
    /// A number.
    Number(f64),
    /// Text.
    Text(String),
    /// A table.
    Table(Table),
    /// Any JSON.
    Json(serde_json::Value),
    /// A download.
    File(FileOutput),
}

/// One output on the wire: `{"name", "kind", "value"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputEntry {
    /// The output's name.
    pub name: String,
    /// Its kind and value.
    #[serde(flatten)]
    pub value: OutputValue,
}

/// The results of one submission, in the order they were set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutputValues(pub Vec<OutputEntry>);

impl OutputValues {
    /// No results yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets an output, builder style.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: OutputValue) -> Self {
        self.0.push(OutputEntry {
            name: name.into(),
            value,
        });
        self
    }

    /// The value of an output by name.
    pub fn get(&self, name: &str) -> Option<&OutputValue> {
        self.0.iter().find(|e| e.name == name).map(|e| &e.value)
    }
}
