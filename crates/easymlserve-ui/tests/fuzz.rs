//! Property-based fuzzing of the decoders that read user bytes: CSV and time-series CSV, and image files
//! (PNG, JPEG, TIFF, intact, corrupted and lying about their size). Whatever the bytes, the answer is a
//! value or an error naming the field: never a panic, never an allocation the bytes did not pay for.
//! `PROPTEST_CASES` raises the case count for the long run. JSON request bodies are fuzzed with the
//! validator, in the server crate (`tests/validation/fuzz.rs`).

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::io::Cursor;

use easymlserve_ui::{ImageValue, Table, TimeSeries};
use proptest::prelude::*;

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
}
