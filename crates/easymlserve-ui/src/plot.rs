//! Plots travel as data (series), not pictures, so every GUI draws them natively and interactively.

use serde::{Deserialize, Serialize};

/// How the x values of a plot are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum XType {
    /// Plain numbers.
    #[default]
    Number,
    /// Milliseconds since 1970-01-01T00:00:00Z, drawn as dates and times (UTC).
    Time,
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesKind {
    /// Points joined by lines.
    #[default]
    Line,
    /// Points only.
    Scatter,
    /// Bars from zero.
    Bar,
}

/// One named series of a plot. `y` may hold `null` (no value) where data is missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Legend entry.
    pub name: String,
    /// How it is drawn.
    #[serde(default)]
    pub kind: SeriesKind,
    /// X values (numbers, or epoch milliseconds on a time axis).
    pub x: Vec<f64>,
    /// Y values, `None` for a gap.
    pub y: Vec<Option<f64>>,
    /// A colour chosen by the author ("#RRGGBB"); without one the GUIs colour the series by name
    /// (see [`crate::ColourMap`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub colour: Option<String>,
}

impl Series {
    /// A line series from x and y values.
    pub fn line(name: impl Into<String>, x: Vec<f64>, y: Vec<f64>) -> Self {
        Self {
            name: name.into(),
            kind: SeriesKind::Line,
            x,
            y: y.into_iter().map(Some).collect(),
            colour: None,
        }
    }

    /// Draws the series in this colour ("#RRGGBB") in every plot, instead of its name's colour.
    #[must_use]
    pub fn colour(mut self, colour: impl Into<String>) -> Self {
        self.colour = Some(colour.into());
        self
    }

    /// Draws the series as points.
    #[must_use]
    pub fn scatter(mut self) -> Self {
        self.kind = SeriesKind::Scatter;
        self
    }

    /// Draws the series as bars.
    #[must_use]
    pub fn bar(mut self) -> Self {
        self.kind = SeriesKind::Bar;
        self
    }
}

/// A plot: title, axis labels and series.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Plot {
    /// Heading above the plot.
    pub title: String,
    /// Label of the x axis.
    pub x_label: String,
    /// Label of the y axis.
    pub y_label: String,
    /// Whether x is a number or a time.
    pub x_type: XType,
    /// The series, drawn in order.
    pub series: Vec<Series>,
}

impl Plot {
    /// An empty plot with a title.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }

    /// Sets the axis labels.
    #[must_use]
    pub fn labels(mut self, x: impl Into<String>, y: impl Into<String>) -> Self {
        self.x_label = x.into();
        self.y_label = y.into();
        self
    }

    /// Reads x values as epoch milliseconds.
    #[must_use]
    pub fn time_axis(mut self) -> Self {
        self.x_type = XType::Time;
        self
    }

    /// Adds a series.
    #[must_use]
    pub fn series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }
}
