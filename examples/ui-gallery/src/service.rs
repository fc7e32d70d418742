//! The gallery's service: summarises whatever the form sent, so every input has a visible effect.

use easymlserve::prelude::*;
use easymlserve::ui::b64;

/// A summary of an uploaded image: size and its grey pixels (8-bit, row-major).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GreyImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height` bytes, base64.
    #[serde(with = "b64")]
    #[schemars(with = "String")]
    pub pixels: Vec<u8>,
}

/// Columns of an uploaded time series.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SeriesData {
    /// Milliseconds since the epoch.
    pub time_ms: Vec<i64>,
    /// Column names.
    pub columns: Vec<String>,
    /// One vector per column.
    pub values: Vec<Vec<f64>>,
}

/// Everything the gallery form can send.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GalleryRequest {
    /// One line of text.
    pub title: String,
    /// Several lines.
    pub notes: String,
    /// A whole number.
    pub count: i64,
    /// A fraction from the slider.
    pub ratio: f64,
    /// One option.
    pub colour: String,
    /// Several options.
    pub toppings: Vec<String>,
    /// A checkbox.
    pub shout: bool,
    /// Name and size of any uploaded file.
    pub file: Option<(String, usize)>,
    /// An uploaded image.
    pub image: Option<GreyImage>,
    /// An uploaded CSV: header and rows.
    pub table: Option<(Vec<String>, Vec<Vec<String>>)>,
    /// An uploaded time series.
    pub series: Option<SeriesData>,
}

/// What the service computed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GalleryResponse {
    /// A sentence about the inputs.
    pub summary: String,
    /// `count * ratio`.
    pub score: f64,
    /// Words in the notes.
    pub note_words: usize,
    /// Mean grey value of the image, when there is one.
    pub image_mean: Option<f64>,
    /// Mean of each series column, when there is a series.
    pub series_means: Vec<(String, f64)>,
    /// Rows in the CSV, when there is one.
    pub table_rows: Option<usize>,
}

/// The gallery service.
pub struct Gallery;

impl Service for Gallery {
    type Request = GalleryRequest;
    type Response = GalleryResponse;

    fn info(&self) -> ServiceInfo {
        ServiceInfo::new("UI gallery").description("Every input and output component of easymlserve.")
    }

    fn process(&self, r: GalleryRequest) -> Result<GalleryResponse, ServiceError> {
        let mut summary = format!(
            "{} — {} × {:.2}, {} with {}",
            r.title,
            r.count,
            r.ratio,
            r.colour,
            if r.toppings.is_empty() {
                "nothing".to_owned()
            } else {
                r.toppings.join(" and ")
            }
        );
        if let Some((name, size)) = &r.file {
            summary.push_str(&format!("; file {name} ({size} bytes)"));
        }
        if r.shout {
            summary = summary.to_uppercase();
        }
        let image_mean = r.image.as_ref().map(|i| {
            let total: u64 = i.pixels.iter().map(|p| u64::from(*p)).sum();
            total as f64 / i.pixels.len().max(1) as f64
        });
        let series_means = r
            .series
            .as_ref()
            .map(|s| {
                let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
                s.columns
                    .iter()
                    .cloned()
                    .zip(s.values.iter().map(|v| mean(v)))
                    .collect()
            })
            .unwrap_or_default();
        Ok(GalleryResponse {
            summary,
            score: r.count as f64 * r.ratio,
            note_words: r.notes.split_whitespace().count(),
            image_mean,
            series_means,
            table_rows: r.table.as_ref().map(|(_, rows)| rows.len()),
        })
    }
}
