//! The gallery's UI: one input of every kind, one output of every kind.

use easymlserve::prelude::*;
use easymlserve::serde_json;
use easymlserve::ui::{FileOutput, ImageOutput, InputValue, Table};

use crate::service::{GalleryRequest, GalleryResponse, GreyImage, SeriesData};

/// Every component on one page.
pub struct GalleryUi;

impl Ui for GalleryUi {
    type Request = GalleryRequest;
    type Response = GalleryResponse;

    fn title(&self) -> String {
        "UI gallery".to_owned()
    }

    fn description(&self) -> String {
        "Every input and output component of easymlserve. Fill in what you like and press Submit.".to_owned()
    }

    fn inputs(&self) -> Vec<Input> {
        vec![
            Input::text("title", "Title")
                .default_value("My experiment")
                .placeholder("a short name"),
            Input::text_long("notes", "Notes")
                .optional()
                .description("Free text; the words are counted."),
            Input::number("count", "Count", true)
                .bounds(0.0, 1000.0)
                .default_value(3.0),
            Input::range("ratio", "Ratio", 0.0, 1.0, 0.05).default_value(0.5),
            Input::single_choice("colour", "Colour", ["red", "green", "blue"]).default_value("green"),
            Input::multiple_choice("toppings", "Toppings", ["cheese", "olives", "basil"])
                .default_value(["cheese"])
                .optional(),
            Input::checkbox("shout", "Shout the summary"),
            Input::file("file", "Any file", ["txt", "json", "bin"]).optional(),
            Input::image_file("image", "Image")
                .optional()
                .description("PNG, JPEG or TIFF, 8 or 16 bit."),
            Input::csv_file("table", "CSV table").optional(),
            Input::time_series_csv_file("series", "Time series")
                .optional()
                .description("First column a time."),
        ]
    }

    fn outputs(&self) -> Vec<Output> {
        vec![
            Output::text("summary", "Summary"),
            Output::number("score", "Score").precision(2).unit("points"),
            Output::plot("plot", "Plot"),
            Output::image("image", "Image with overlay"),
            Output::table("table", "Table"),
            Output::json("json", "Raw response"),
            Output::file("report", "Report"),
        ]
        .into_iter()
        .chain(crate::rich::outputs())
        .collect()
    }

    fn prepare_request(&self, inputs: &InputValues) -> Result<GalleryRequest, UiError> {
        let image = match inputs.get("image") {
            Some(InputValue::Image(image)) => {
                let display = image.channel(0);
                let shift = if image.bit_depth > 8 { 8 } else { 0 };
                let pixels = display.iter().map(|v| (v >> shift) as u8).collect();
                Some(GreyImage {
                    width: image.width,
                    height: image.height,
                    pixels,
                })
            }
            _ => None,
        };
        let series = match inputs.get("series") {
            Some(InputValue::TimeSeries(s)) => Some(SeriesData {
                time_ms: s.epoch_ms.clone(),
                columns: s.columns.clone(),
                values: s.values.clone(),
            }),
            _ => None,
        };
        Ok(GalleryRequest {
            title: inputs.text("title")?.unwrap_or_default().to_owned(),
            notes: inputs.text("notes")?.unwrap_or_default().to_owned(),
            count: inputs.number("count")?.unwrap_or(0.0) as i64,
            ratio: inputs.number("ratio")?.unwrap_or(0.5),
            colour: inputs.text("colour")?.unwrap_or_default().to_owned(),
            toppings: inputs.choices("toppings")?.to_vec(),
            shout: inputs.checked("shout")?,
            file: match inputs.get("file") {
                Some(InputValue::File(f)) => Some((f.name.clone(), f.bytes.len())),
                _ => None,
            },
            image,
            table: match inputs.get("table") {
                Some(InputValue::Table(t)) => Some((t.columns.clone(), t.rows.clone())),
                _ => None,
            },
            series,
        })
    }

    fn process_response(&self, request: &GalleryRequest, response: GalleryResponse) -> Result<OutputValues, UiError> {
        let plot = match &request.series {
            Some(s) => {
                let x: Vec<f64> = s.time_ms.iter().map(|t| *t as f64).collect();
                s.columns
                    .iter()
                    .zip(&s.values)
                    .fold(Plot::new("Uploaded series").time_axis(), |plot, (name, values)| {
                        plot.series(Series::line(name.clone(), x.clone(), values.clone()))
                    })
            }
            None => {
                let x: Vec<f64> = (0..=60).map(|i| f64::from(i) / 10.0).collect();
                let wave = x.iter().map(|v| (v * 2.0).sin() * request.count as f64).collect();
                let bars = x.iter().map(|v| v * request.ratio).collect();
                Plot::new("count × sin(2x)")
                    .labels("x", "y")
                    .series(Series::line("wave", x.clone(), wave))
                    .series(Series::line("ratio × x", x, bars).scatter())
            }
        };
        let image = match &request.image {
            Some(i) => {
                let threshold = response.image_mean.unwrap_or(128.0);
                let labels: Vec<u32> = i.pixels.iter().map(|p| u32::from(f64::from(*p) > threshold)).collect();
                ImageOutput::from_gray8(i.width, i.height, i.pixels.clone()).with_labels(&labels)
            }
            None => {
                let pixels = (0..64u32 * 64).map(|i| ((i % 64) * 4) as u8).collect();
                let labels: Vec<u32> = (0..64u32 * 64).map(|i| u32::from((i / 64) / 16 == 1) * 3).collect();
                ImageOutput::from_gray8(64, 64, pixels).with_labels(&labels)
            }
        };
        let table = match &request.table {
            Some((columns, rows)) => Table::new(columns.clone(), rows.clone()),
            None => Table::new(
                vec!["topping".to_owned(), "chosen".to_owned()],
                request
                    .toppings
                    .iter()
                    .map(|t| vec![t.clone(), "yes".to_owned()])
                    .collect(),
            ),
        };
        let json = serde_json::to_value(&response).map_err(|e| UiError::general(e.to_string()))?;
        let report = format!(
            "summary,score\n\"{}\",{}\n",
            response.summary.replace('"', "\"\""),
            response.score
        );
        let out = OutputValues::new()
            .with("summary", OutputValue::Text(response.summary.clone()))
            .with("score", OutputValue::Number(response.score))
            .with("plot", OutputValue::Plot(plot))
            .with("image", OutputValue::Image(image))
            .with("table", OutputValue::Table(table))
            .with("json", OutputValue::Json(json))
            .with("report", OutputValue::File(FileOutput::csv("report.csv", report)));
        Ok(crate::rich::values(request, &response)
            .into_iter()
            .fold(out, |out, (name, value)| out.with(name, value)))
    }
}
