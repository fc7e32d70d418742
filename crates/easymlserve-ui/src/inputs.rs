//! Input components: what a GUI draws to collect one value (spec), built with small constructors.

use serde::{Deserialize, Serialize};

use super::dataframe::Column;

/// One input of a UI: a name (the multipart part and the key in `InputValues`), a label, and a kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input {
    /// Identifier, unique within the UI: `[A-Za-z0-9_-]+`.
    pub name: String,
    /// What the user reads next to the widget.
    pub label: String,
    /// A longer help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether the form refuses to submit without a value.
    #[serde(default = "yes")]
    pub required: bool,
    /// The widget and its settings.
    #[serde(flatten)]
    pub kind: InputKind,
}

fn yes() -> bool {
    true
}

/// The kinds of input widget, with their settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum InputKind {
    /// One line of text.
    Text {
        /// Initial value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
        /// Grey hint shown when empty.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        placeholder: Option<String>,
    },
    /// Several lines of text (also used for JSON).
    TextLong {
        /// Initial value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
        /// Grey hint shown when empty.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        placeholder: Option<String>,
        /// Whether the text must be JSON (the GUI checks it before sending).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        json: bool,
    },
    /// A number field.
    Number {
        /// Whether only whole numbers are allowed.
        integer: bool,
        /// Smallest allowed value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        /// Largest allowed value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
        /// Increment of the arrows.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<f64>,
        /// Initial value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<f64>,
    },
    /// A slider between two bounds.
    Range {
        /// Lower bound.
        min: f64,
        /// Upper bound.
        max: f64,
        /// Increment; fractions work.
        step: f64,
        /// Initial value (the middle when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<f64>,
    },
    /// Pick one of several strings.
    SingleChoice {
        /// The options.
        choices: Vec<String>,
        /// Initially selected option.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<String>,
    },
    /// Pick any number of several strings.
    MultipleChoice {
        /// The options.
        choices: Vec<String>,
        /// Initially selected options.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        default: Vec<String>,
    },
    /// On or off.
    Checkbox {
        /// Initial state.
        #[serde(default)]
        default: bool,
    },
    /// Any file, optionally limited to some extensions.
    File {
        /// Accepted extensions without the dot, lower case; empty accepts all.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        extensions: Vec<String>,
    },
    /// A PNG, JPEG or TIFF image (8 or 16 bit, grey or colour), decoded for the UI code.
    ImageFile,
    /// A CSV file with a header row, parsed into a table.
    CsvFile,
    /// A CSV file whose first column is a timestamp, checked for order; other columns are numbers.
    TimeSeriesCsvFile,
    /// A picture from the camera (the web page's `getUserMedia`), or an image file where there is no
    /// camera; decoded like [`InputKind::ImageFile`].
    Camera,
    /// An editable table with typed columns (`dataframe.rs`).
    Dataframe {
        /// The columns, in order.
        columns: Vec<Column>,
        /// Initial rows, one JSON cell per column.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        rows: Vec<Vec<serde_json::Value>>,
        /// Fewest rows accepted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min_rows: Option<usize>,
        /// Most rows accepted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_rows: Option<usize>,
    },
    /// A WAV or FLAC file, or a recording (the web page sends WAV), decoded into samples (`audio.rs`).
    Audio {
        /// Longest audio accepted, in seconds ([`crate::MAX_AUDIO_SECONDS`] when absent).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_seconds: Option<f64>,
    },
}

impl InputKind {
    /// Whether the value arrives as an uploaded file.
    pub fn is_file(&self) -> bool {
        matches!(
            self,
            Self::File { .. }
                | Self::ImageFile
                | Self::CsvFile
                | Self::TimeSeriesCsvFile
                | Self::Camera
                | Self::Audio { .. }
        )
    }

    /// The extensions a file picker should offer, lower case without the dot.
    pub fn accepted_extensions(&self) -> Vec<String> {
        let list: &[&str] = match self {
            Self::File { extensions } => return extensions.clone(),
            Self::ImageFile | Self::Camera => &["png", "jpg", "jpeg", "tif", "tiff"],
            Self::Audio { .. } => &["wav", "flac"],
            Self::CsvFile | Self::TimeSeriesCsvFile => &["csv", "txt"],
            _ => &[],
        };
        list.iter().map(|e| (*e).to_owned()).collect()
    }
}

impl Input {
    pub(crate) fn new(name: impl Into<String>, label: impl Into<String>, kind: InputKind) -> Self {
        Self {
            name: name.into(),
            label: label.into(),
            description: None,
            required: true,
            kind,
        }
    }

    /// One line of text.
    pub fn text(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(
            name,
            label,
            InputKind::Text {
                default: None,
                placeholder: None,
            },
        )
    }

    /// Several lines of text.
    pub fn text_long(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(
            name,
            label,
            InputKind::TextLong {
                default: None,
                placeholder: None,
                json: false,
            },
        )
    }

    /// A JSON editor (several lines, checked to be JSON).
    pub fn json(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(
            name,
            label,
            InputKind::TextLong {
                default: None,
                placeholder: None,
                json: true,
            },
        )
    }

    /// A number; `integer` allows whole numbers only.
    pub fn number(name: impl Into<String>, label: impl Into<String>, integer: bool) -> Self {
        Self::new(
            name,
            label,
            InputKind::Number {
                integer,
                min: None,
                max: None,
                step: None,
                default: None,
            },
        )
    }

    /// A slider from `min` to `max` in steps of `step`.
    pub fn range(name: impl Into<String>, label: impl Into<String>, min: f64, max: f64, step: f64) -> Self {
        Self::new(
            name,
            label,
            InputKind::Range {
                min,
                max,
                step,
                default: None,
            },
        )
    }

    /// Pick one of `choices`.
    pub fn single_choice<I, C>(name: impl Into<String>, label: impl Into<String>, choices: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<String>,
    {
        let choices = choices.into_iter().map(Into::into).collect();
        Self::new(name, label, InputKind::SingleChoice { choices, default: None })
    }

    /// Pick any of `choices`.
    pub fn multiple_choice<I, C>(name: impl Into<String>, label: impl Into<String>, choices: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<String>,
    {
        let choices = choices.into_iter().map(Into::into).collect();
        Self::new(
            name,
            label,
            InputKind::MultipleChoice {
                choices,
                default: Vec::new(),
            },
        )
    }

    /// A checkbox.
    pub fn checkbox(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, InputKind::Checkbox { default: false }).optional()
    }

    /// Any file with one of `extensions` (empty: any).
    pub fn file<I, E>(name: impl Into<String>, label: impl Into<String>, extensions: I) -> Self
    where
        I: IntoIterator<Item = E>,
        E: Into<String>,
    {
        let extensions = extensions
            .into_iter()
            .map(|e| e.into().trim_start_matches('.').to_ascii_lowercase())
            .collect();
        Self::new(name, label, InputKind::File { extensions })
    }

    /// An image file (PNG, JPEG, TIFF).
    pub fn image_file(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, InputKind::ImageFile)
    }

    /// A CSV file with a header row.
    pub fn csv_file(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, InputKind::CsvFile)
    }

    /// A time-series CSV file: first column a timestamp, the others numbers.
    pub fn time_series_csv_file(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, InputKind::TimeSeriesCsvFile)
    }

    /// A picture from the camera, or an image file where there is none.
    pub fn camera(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, InputKind::Camera)
    }

    /// Adds a help text.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Allows submitting without a value.
    #[must_use]
    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }

    /// Sets the bounds of a `Number` (ignored by other kinds).
    #[must_use]
    pub fn bounds(mut self, lo: f64, hi: f64) -> Self {
        if let InputKind::Number { min, max, .. } = &mut self.kind {
            (*min, *max) = (Some(lo), Some(hi));
        }
        self
    }

    /// Sets the step of a `Number` or `Range`.
    #[must_use]
    pub fn step(mut self, value: f64) -> Self {
        match &mut self.kind {
            InputKind::Number { step, .. } => *step = Some(value),
            InputKind::Range { step, .. } => *step = value,
            _ => {}
        }
        self
    }

    /// Sets the initial value of a text, number, range, choice or checkbox input.
    #[must_use]
    pub fn default_value(mut self, value: impl Into<DefaultValue>) -> Self {
        match (&mut self.kind, value.into()) {
            (InputKind::Text { default, .. } | InputKind::TextLong { default, .. }, DefaultValue::Text(t)) => {
                *default = Some(t)
            }
            (InputKind::SingleChoice { default, .. }, DefaultValue::Text(t)) => *default = Some(t),
            (InputKind::Number { default, .. } | InputKind::Range { default, .. }, DefaultValue::Number(x)) => {
                *default = Some(x)
            }
            (InputKind::MultipleChoice { default, .. }, DefaultValue::Texts(ts)) => *default = ts,
            (InputKind::Checkbox { default }, DefaultValue::Bool(b)) => *default = b,
            _ => {}
        }
        self
    }

    /// Sets the placeholder of a text input.
    #[must_use]
    pub fn placeholder(mut self, text: impl Into<String>) -> Self {
        if let InputKind::Text { placeholder, .. } | InputKind::TextLong { placeholder, .. } = &mut self.kind {
            *placeholder = Some(text.into());
        }
        self
    }
}

/// A default for [`Input::default_value`].
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    /// For text and single choice.
    Text(String),
    /// For number and range.
    Number(f64),
    /// For multiple choice.
    Texts(Vec<String>),
    /// For checkbox.
    Bool(bool),
}

impl From<&str> for DefaultValue {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<String> for DefaultValue {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<f64> for DefaultValue {
    fn from(value: f64) -> Self {
        Self::Number(value)
    }
}

impl From<i64> for DefaultValue {
    fn from(value: i64) -> Self {
        Self::Number(value as f64)
    }
}

impl From<bool> for DefaultValue {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl<const N: usize> From<[&str; N]> for DefaultValue {
    fn from(values: [&str; N]) -> Self {
        Self::Texts(values.iter().map(|v| (*v).to_owned()).collect())
    }
}

impl From<Vec<String>> for DefaultValue {
    fn from(values: Vec<String>) -> Self {
        Self::Texts(values)
    }
}
