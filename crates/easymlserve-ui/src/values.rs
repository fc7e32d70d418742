//! Values of inputs (what the UI code reads), with typed getters whose errors name the input, shared by
//! the web and desktop GUIs. Parsing raw form data into these values is in `input_parse.rs`; output
//! values are in `output_values.rs` and re-exported here so the old paths stay.

use std::collections::BTreeMap;

use super::UiError;
use super::audio::AudioValue;
use super::dataframe::DataframeValue;
use super::image::ImageValue;
use super::table::{Table, TimeSeries};

pub use super::output_values::{FileOutput, OutputEntry, OutputValue, OutputValues, sanitize_file_name};

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
    /// Decoded audio.
    Audio(AudioValue),
    /// The rows of a dataframe input, typed by column.
    Dataframe(DataframeValue),
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

    /// Decoded audio.
    pub fn audio(&self, name: &str) -> Result<&AudioValue, UiError> {
        self.expect(name, "audio", |v| match v {
            InputValue::Audio(a) => Some(a),
            _ => None,
        })
    }

    /// The rows of a dataframe input.
    pub fn dataframe(&self, name: &str) -> Result<&DataframeValue, UiError> {
        self.expect(name, "a table", |v| match v {
            InputValue::Dataframe(d) => Some(d),
            _ => None,
        })
    }
}
