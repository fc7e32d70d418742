//! Output components: what a GUI draws to show one result (spec).

use serde::{Deserialize, Serialize};

/// One output of a UI: a name (the key in `OutputValues`), a label, and a kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Output {
    /// Identifier, unique within the UI.
    pub name: String,
    /// Heading the user reads above the result.
    pub label: String,
    /// A longer help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The widget and its settings.
    #[serde(flatten)]
    pub kind: OutputKind,
}

/// The kinds of output widget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutputKind {
    /// An interactive plot of series (line, scatter, bar), with zoom and hover values.
    Plot,
    /// An image, optionally with a label-mask overlay.
    Image,
    /// A number, formatted.
    Number {
        /// Unit shown after the number.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<String>,
        /// Digits after the decimal point.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        precision: Option<u8>,
    },
    /// Text.
    Text,
    /// A table with a header row.
    Table,
    /// Any JSON, pretty-printed.
    Json,
    /// A file to download.
    File,
    /// A classification's top classes as confidence bars.
    Label {
        /// Classes shown; `DEFAULT_TOP_K` (5) when unset.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        top_k: Option<usize>,
    },
    /// Images with captions in a grid; a click enlarges one.
    Gallery,
    /// An image with labelled boxes and masks drawn over it, and a legend.
    AnnotatedImage,
    /// A document in a safe subset of Markdown.
    Markdown,
    /// Sound with a player and its waveform (`audio.rs`).
    Audio,
}

impl Output {
    fn new(name: impl Into<String>, label: impl Into<String>, kind: OutputKind) -> Self {
        Self {
            name: name.into(),
            label: label.into(),
            description: None,
            kind,
        }
    }

    /// An interactive plot.
    pub fn plot(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, OutputKind::Plot)
    }

    /// An image.
    pub fn image(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, OutputKind::Image)
    }

    /// A number.
    pub fn number(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(
            name,
            label,
            OutputKind::Number {
                unit: None,
                precision: None,
            },
        )
    }

    /// Text.
    pub fn text(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, OutputKind::Text)
    }

    /// A table.
    pub fn table(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, OutputKind::Table)
    }

    /// Pretty-printed JSON.
    pub fn json(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, OutputKind::Json)
    }

    /// A file download.
    pub fn file(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, OutputKind::File)
    }

    /// Sound with a player and its waveform.
    pub fn audio(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, OutputKind::Audio)
    }

    /// A classification's top `DEFAULT_TOP_K` classes as confidence bars (see [`Output::top_k`]).
    pub fn label(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, OutputKind::Label { top_k: None })
    }

    /// Images with captions.
    pub fn gallery(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, OutputKind::Gallery)
    }

    /// An image with labelled boxes and masks.
    pub fn annotated_image(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, OutputKind::AnnotatedImage)
    }

    /// A Markdown document (model cards, explanations).
    pub fn markdown(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, OutputKind::Markdown)
    }

    /// Sets how many classes a `Label` output shows.
    #[must_use]
    pub fn top_k(mut self, k: usize) -> Self {
        if let OutputKind::Label { top_k } = &mut self.kind {
            *top_k = Some(k);
        }
        self
    }

    /// Adds a help text.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the unit of a `Number` output.
    #[must_use]
    pub fn unit(mut self, text: impl Into<String>) -> Self {
        if let OutputKind::Number { unit, .. } = &mut self.kind {
            *unit = Some(text.into());
        }
        self
    }

    /// Sets the digits after the decimal point of a `Number` output.
    #[must_use]
    pub fn precision(mut self, digits: u8) -> Self {
        if let OutputKind::Number { precision, .. } = &mut self.kind {
            *precision = Some(digits);
        }
        self
    }
}
