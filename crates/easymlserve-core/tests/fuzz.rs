//! Property-based fuzzing of the decoders that read user bytes: CSV and time-series CSV, image files
//! (PNG, JPEG, TIFF, intact, corrupted and lying about their size) and JSON request bodies. Whatever
//! the bytes, the answer is a value or an error naming the field: never a panic, never an allocation
//! the bytes did not pay for. `PROPTEST_CASES` raises the case count for the long run.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::io::Cursor;

use easymlserve_core::schemars::JsonSchema;
use easymlserve_core::ui::{ImageValue, Table, TimeSeries};
use easymlserve_core::{RequestError, Validator, parse_request};
use proptest::prelude::*;
use serde::Deserialize;

/// One CSV cell: numbers, timestamps, text, quotes, separators and empties, so the parser meets
/// ragged rows, quoted fields and near-valid series more often than pure noise would give.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        (-1e6f64..1e6).prop_map(|v| v.to_string()),
        (0u32..40_000).prop_map(|h| format!("2019-01-{:02}T{:02}:00:00Z", 1 + h / 24 % 28, h % 24)),
        "[a-z ]{0,6}",
        Just("\"quoted, with comma\"".to_owned()),
        Just("\"unterminated".to_owned()),
        Just(String::new()),
        Just("NaN".to_owned()),
        Just("1e400".to_owned()),
    ]
}

/// A CSV document of up to 8 lines of up to 5 cells, with `,` or `;` and `\n` or `\r\n`.
fn csv_text() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::collection::vec(prop::collection::vec(cell(), 0..5), 0..8),
        prop::bool::ANY,
    )
        .prop_map(|(lines, crlf)| {
            let end = if crlf { "\r\n" } else { "\n" };
            lines
                .iter()
                .map(|l| l.join(","))
                .collect::<Vec<_>>()
                .join(end)
                .into_bytes()
        })
}

/// A small valid image in `format`, to corrupt.
fn encoded(format: image::ImageFormat, width: u32, height: u32) -> Vec<u8> {
    let pixels = (0..width * height).map(|i| (i * 37 % 251) as u8).collect();
    let img = image::DynamicImage::ImageLuma8(image::GrayImage::from_raw(width, height, pixels).unwrap());
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A PNG header that claims `width x height` pixels, followed by a tiny (wrong) data chunk.
fn lying_png(width: u32, height: u32) -> Vec<u8> {
    let mut png = encoded(image::ImageFormat::Png, 2, 2);
    // The IHDR chunk's width and height sit at bytes 16..24; its CRC then no longer matches, and
    // the decoder must refuse either for the CRC or for the size, before allocating the pixels.
    png[16..20].copy_from_slice(&width.to_be_bytes());
    png[20..24].copy_from_slice(&height.to_be_bytes());
    png
}

#[derive(Debug, Deserialize, JsonSchema)]
#[expect(dead_code, reason = "only parsed")]
struct Request {
    #[schemars(length(min = 1, max = 5))]
    name: String,
    #[schemars(range(min = 0, max = 10))]
    repeat: u32,
    #[serde(default)]
    values: Vec<f64>,
    #[serde(default)]
    nested: Option<Box<Request>>,
}

/// Arbitrary JSON values, up to a few levels deep.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        "[a-z]{0,8}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("name".to_owned()),
                    Just("repeat".to_owned()),
                    Just("values".to_owned()),
                    Just("nested".to_owned()),
                    "[a-z]{1,5}"
                ],
                inner,
                0..5
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn csv_parsing_never_panics_and_keeps_rows_rectangular(bytes in csv_text()) {
        match Table::from_csv(&bytes, "data") {
            Ok(table) => prop_assert!(table.rows.iter().all(|row| row.len() == table.columns.len())),
            Err(err) => prop_assert_eq!(err.field.as_deref(), Some("data")),
        }
    }

    #[test]
    fn csv_parsing_of_raw_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Table::from_csv(&bytes, "data");
        let _ = TimeSeries::from_csv(&bytes, "data");
    }

    #[test]
    fn time_series_are_in_order_or_refused_by_line(bytes in csv_text()) {
        match TimeSeries::from_csv(&bytes, "series") {
            Ok(series) => prop_assert!(series.epoch_ms.windows(2).all(|w| w[0] < w[1])),
            Err(err) => {
                prop_assert_eq!(err.field.as_deref(), Some("series"));
                prop_assert!(!err.message.is_empty());
            }
        }
    }

    #[test]
    fn corrupted_images_decode_or_are_refused(
        format in prop_oneof![Just(image::ImageFormat::Png), Just(image::ImageFormat::Jpeg), Just(image::ImageFormat::Tiff)],
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        keep in 0.0f64..=1.0,
    ) {
        let mut bytes = encoded(format, 9, 7);
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        bytes.truncate(((bytes.len() as f64) * keep).ceil() as usize);
        if let Ok(image) = ImageValue::decode(&bytes, "picture") {
            let expected = image.width as usize * image.height as usize * usize::from(image.channels);
            prop_assert_eq!(image.data.len(), expected);
        }
    }

    #[test]
    fn random_bytes_are_not_images(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = ImageValue::decode(&bytes, "picture");
    }

    #[test]
    fn an_image_claiming_a_huge_size_is_refused_without_allocating(width in 16_385u32..=u32::MAX, height in 1u32..=u32::MAX) {
        let err = ImageValue::decode(&lying_png(width, height), "picture").unwrap_err();
        prop_assert_eq!(err.field.as_deref(), Some("picture"));
    }

    #[test]
    fn json_bodies_parse_or_are_refused_with_a_field(value in json_value()) {
        let validator = Validator::for_type::<Request>();
        let body = serde_json::to_vec(&value).unwrap();
        match parse_request::<Request>(&validator, &body) {
            Ok(_) => {}
            Err(RequestError::Malformed(_)) => prop_assert!(false, "valid JSON called malformed: {}", value),
            Err(err) => prop_assert!(!err.to_string().is_empty(), "an error without a message"),
        }
    }

    #[test]
    fn raw_bytes_as_json_bodies_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let validator = Validator::for_type::<Request>();
        let _ = parse_request::<Request>(&validator, &bytes);
    }
}

#[test]
fn deeply_nested_json_is_refused_not_overflowing_the_stack() {
    let validator = Validator::for_type::<Request>();
    let body = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(parse_request::<Request>(&validator, body.as_bytes()).is_err());
}
