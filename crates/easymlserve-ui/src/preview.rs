//! `Preview`: what a GUI shows of an uploaded file before the form is submitted (the image as it will
//! be read, the first rows of a table, a time series drawn). The web GUI sends it as the answer of
//! `/ui/preview`; the desktop GUI draws it under the file input. One dispatch, so both show the same.

use serde::Serialize;

use crate::{ImageOutput, Input, InputValue, Plot, RawInput, Table, UiError};

/// Rows of a table shown in its preview.
pub const PREVIEW_ROWS: usize = 8;

/// A preview of an uploaded file, as parsed by its input.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Preview {
    /// An image, as displayed.
    Image {
        /// The displayable image.
        image: ImageOutput,
        /// e.g. `640 x 480 px, 16-bit grey`.
        detail: String,
    },
    /// The first rows of a CSV table.
    Table {
        /// Up to [`PREVIEW_ROWS`] rows.
        table: Table,
        /// All rows.
        rows: usize,
    },
    /// A time series, drawn.
    TimeSeries {
        /// The series as a plot.
        plot: Plot,
        /// All rows.
        rows: usize,
    },
    /// Audio, as decoded.
    Audio {
        /// e.g. `16000 Hz, 2 channels, 1.50 s`.
        detail: String,
    },
    /// Any other file.
    File {
        /// File name.
        name: String,
        /// Size in bytes.
        size: usize,
    },
}

impl Preview {
    /// The preview of `value`, parsed by `input`; `None` when the value is not a file's.
    pub fn of(input: &Input, value: InputValue) -> Option<Self> {
        Some(match value {
            InputValue::Image(image) => {
                let tone = if image.channels >= 3 { "colour" } else { "grey" };
                let detail = format!("{} x {} px, {}-bit {tone}", image.width, image.height, image.bit_depth);
                Self::Image {
                    image: image.to_display(),
                    detail,
                }
            }
            InputValue::Table(table) => Self::Table {
                rows: table.rows.len(),
                table: table.head(PREVIEW_ROWS),
            },
            InputValue::TimeSeries(series) => Self::TimeSeries {
                rows: series.len(),
                plot: series.to_plot(&input.label),
            },
            InputValue::Audio(audio) => Self::Audio {
                detail: format!(
                    "{} Hz, {} channel{}, {:.2} s",
                    audio.sample_rate,
                    audio.channels,
                    if audio.channels == 1 { "" } else { "s" },
                    audio.duration_seconds()
                ),
            },
            InputValue::File(file) => Self::File {
                size: file.bytes.len(),
                name: file.name,
            },
            _ => return None,
        })
    }

    /// Parses `raw` as `input` would on submit and previews it; `Ok(None)` when `input` takes no file.
    pub fn parse(input: &Input, raw: RawInput) -> Result<Option<Self>, UiError> {
        Ok(Self::of(input, input.parse(raw)?))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::FileValue;

    fn file(name: &str, bytes: &[u8]) -> RawInput {
        RawInput::File(FileValue {
            name: name.to_owned(),
            bytes: bytes.to_vec(),
        })
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img = image::RgbImage::from_pixel(width, height, image::Rgb([10, 200, 30]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    }

    #[test]
    fn each_file_kind_gets_its_preview() {
        let image = Preview::parse(&Input::image_file("img", "Image"), file("a.png", &png(8, 6))).unwrap();
        match image {
            Some(Preview::Image { detail, image }) => {
                assert_eq!(detail, "8 x 6 px, 8-bit colour");
                assert!(!image.png.is_empty());
            }
            other => panic!("{other:?}"),
        }

        let rows: String = (0..20).map(|i| format!("{i},{}\n", i * 2)).collect();
        let csv = format!("a,b\n{rows}");
        let table = Preview::parse(&Input::csv_file("t", "Table"), file("t.csv", csv.as_bytes())).unwrap();
        match table {
            Some(Preview::Table { table, rows }) => {
                assert_eq!(rows, 20);
                assert_eq!(table.rows.len(), PREVIEW_ROWS);
            }
            other => panic!("{other:?}"),
        }

        let series = "time,energy\n2019-01-01T00:00:00Z,1\n2019-01-01T01:00:00Z,2\n2019-01-01T02:00:00Z,3\n";
        let input = Input::time_series_csv_file("s", "Load");
        match Preview::parse(&input, file("s.csv", series.as_bytes())).unwrap() {
            Some(Preview::TimeSeries { rows, plot }) => {
                assert_eq!(rows, 3);
                assert_eq!(plot.series.len(), 1, "{plot:?}");
            }
            other => panic!("{other:?}"),
        }

        let other = Input::file("f", "File", ["bin"]);
        assert_eq!(
            Preview::parse(&other, file("x.bin", b"12345")).unwrap(),
            Some(Preview::File {
                name: "x.bin".to_owned(),
                size: 5
            })
        );
        let wire = serde_json::to_value(Preview::parse(&other, file("x.bin", b"1")).unwrap()).unwrap();
        assert_eq!(wire, serde_json::json!({"kind": "file", "name": "x.bin", "size": 1}));
    }

    #[test]
    fn a_bad_file_names_its_input_and_a_value_that_is_no_file_has_no_preview() {
        let err = Preview::parse(&Input::image_file("img", "Image"), file("a.png", b"not a png")).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("img"));
        let text = Input::text("t", "Text");
        assert_eq!(
            Preview::parse(&text, RawInput::Text(vec!["hi".to_owned()])).unwrap(),
            None
        );
    }
}
