//! Values of outputs (what the UI code returns after a submission) and their wire form, shared by the
//! web and desktop GUIs; kept apart from input values because they flow the other way.

use serde::{Deserialize, Serialize};

use super::annotated::AnnotatedImage;
use super::audio::AudioOutput;
use super::bytes::b64;
use super::gallery::Gallery;
use super::image::ImageOutput;
use super::label::Classes;
use super::markdown::Markdown;
use super::plot::Plot;
use super::table::Table;

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
    /// Classes with confidences.
    Label(Classes),
    /// Images with captions.
    Gallery(Gallery),
    /// An image with annotations.
    AnnotatedImage(AnnotatedImage),
    /// A parsed Markdown document.
    Markdown(Markdown),
    /// Sound.
    Audio(AudioOutput),
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
