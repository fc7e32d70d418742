//! The gallery's media page: a Camera, a Dataframe and an Audio input, and an Audio output. The service
//! reports what reached it (the picture's size, the table's row count and column sums, the sound's rate
//! and length) and echoes the sound back. Serve it with `cargo run -p ui-gallery --bin ui-gallery-media`.

use easymlserve::prelude::*;
use easymlserve::ui::{AudioOutput, Column, InputValue};

/// The size of the picture taken (or chosen).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PhotoSize {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// One row of the measurements table.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Measurement {
    /// Where it was measured.
    pub site: String,
    /// Day of the month.
    pub day: i64,
    /// Load in MW.
    pub load: f64,
    /// Whether it was a holiday.
    pub holiday: bool,
}

/// Mono sound: the generated GUI's audio envelope (`{"sample_rate", "samples"}`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Sound {
    /// Samples per second.
    pub sample_rate: u32,
    /// Samples in -1..1.
    pub samples: Vec<f32>,
}

/// What the media form sends.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MediaRequest {
    /// The picture's size, when one was taken.
    pub photo: Option<PhotoSize>,
    /// The rows of the table.
    pub measurements: Vec<Measurement>,
    /// The sound, when one was recorded or chosen.
    pub sound: Option<Sound>,
}

/// What the media service reports.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MediaResponse {
    /// One sentence about everything received.
    pub summary: String,
    /// Rows in the table.
    pub rows: usize,
    /// Sum of the `load` column.
    pub load_sum: f64,
    /// The sound, sent back.
    pub echo: Option<Sound>,
}

/// The media service.
pub struct MediaLab;

impl Service for MediaLab {
    type Request = MediaRequest;
    type Response = MediaResponse;

    fn info(&self) -> ServiceInfo {
        ServiceInfo::new("Media lab").description("Camera, table and audio components of easymlserve.")
    }

    fn process(&self, r: MediaRequest) -> Result<MediaResponse, ServiceError> {
        let mut parts = Vec::new();
        if let Some(p) = &r.photo {
            parts.push(format!("photo {} x {} px", p.width, p.height));
        }
        let load_sum: f64 = r.measurements.iter().map(|m| m.load).sum();
        let day_sum: i64 = r.measurements.iter().map(|m| m.day).sum();
        let holidays = r.measurements.iter().filter(|m| m.holiday).count();
        parts.push(format!(
            "{} rows, load sum {load_sum}, day sum {day_sum}, {holidays} holidays",
            r.measurements.len()
        ));
        if let Some(s) = &r.sound {
            let seconds = s.samples.len() as f64 / f64::from(s.sample_rate.max(1));
            parts.push(format!(
                "sound {} Hz, {} samples, {seconds:.2} s",
                s.sample_rate,
                s.samples.len()
            ));
        }
        Ok(MediaResponse {
            summary: parts.join("; "),
            rows: r.measurements.len(),
            load_sum,
            echo: r.sound,
        })
    }
}

/// The media page's UI.
pub struct MediaUi;

impl Ui for MediaUi {
    type Request = MediaRequest;
    type Response = MediaResponse;

    fn title(&self) -> String {
        "Media gallery".to_owned()
    }

    fn description(&self) -> String {
        "A picture from your camera, a table you can paste a spreadsheet into, and a sound to record or upload."
            .to_owned()
    }

    fn inputs(&self) -> Vec<Input> {
        let columns = vec![
            Column::text("site"),
            Column::integer("day"),
            Column::number("load"),
            Column::bool("holiday"),
        ];
        let rows = vec![
            vec!["Kiel".into(), 1.into(), 3.5.into(), false.into()],
            vec!["Bonn".into(), 2.into(), 4.25.into(), true.into()],
        ];
        vec![
            Input::camera("photo", "Photo")
                .optional()
                .description("Take a picture, or choose an image where there is no camera."),
            Input::dataframe("measurements", "Measurements", columns)
                .rows(rows)
                .row_bounds(Some(1), Some(100)),
            Input::audio("sound", "Sound")
                .optional()
                .description("A WAV or FLAC file, or record one."),
        ]
    }

    fn outputs(&self) -> Vec<Output> {
        vec![
            Output::text("summary", "What the service received"),
            Output::number("rows", "Rows"),
            Output::number("load_sum", "Load sum").unit("MW"),
            Output::audio("echo", "Echo"),
        ]
    }

    fn prepare_request(&self, inputs: &InputValues) -> Result<MediaRequest, UiError> {
        let photo = match inputs.get("photo") {
            Some(InputValue::Image(i)) => Some(PhotoSize {
                width: i.width,
                height: i.height,
            }),
            _ => None,
        };
        let table = inputs.dataframe("measurements")?;
        let measurements = easymlserve::serde_json::from_value(table.to_records())
            .map_err(|e| UiError::field("measurements", format!("the table does not fit: {e}")))?;
        let sound = match inputs.get("sound") {
            Some(InputValue::Audio(a)) => {
                let channels = usize::from(a.channels.max(1));
                let samples = a
                    .samples
                    .chunks(channels)
                    .map(|frame| frame.iter().sum::<f32>() / channels as f32)
                    .collect();
                Some(Sound {
                    sample_rate: a.sample_rate,
                    samples,
                })
            }
            _ => None,
        };
        Ok(MediaRequest {
            photo,
            measurements,
            sound,
        })
    }

    fn process_response(&self, _: &MediaRequest, r: MediaResponse) -> Result<OutputValues, UiError> {
        let mut out = OutputValues::new()
            .with("summary", OutputValue::Text(r.summary))
            .with("rows", OutputValue::Number(r.rows as f64))
            .with("load_sum", OutputValue::Number(r.load_sum));
        if let Some(s) = r.echo {
            out = out.with("echo", OutputValue::Audio(AudioOutput::mono(s.sample_rate, s.samples)));
        }
        Ok(out)
    }
}
