//! The UI's `prepare_request` and `process_response` on the shipped TIFF and on the same image saved as
//! 8-bit PNG, 16-bit PNG, 8-bit TIFF and JPEG, with the service called in process.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::io::Cursor;

use crate::util::{assert_within_20_percent, segmenter, shipped_tiff};
use cell_segmentation::data::read_gray;
use cell_segmentation::envelope::InputDtype;
use cell_segmentation::service::CellSegmenter;
use cell_segmentation::ui::{IMAGE, cell_ui};
use easymlserve::prelude::*;
use easymlserve::ui::{ImageValue, InputValue};

/// The cells in the whole shipped mask.
const MASK_CELLS: usize = 125;

fn run(service: &CellSegmenter, bytes: &[u8]) -> (InputDtype, OutputValues) {
    let image = ImageValue::decode(bytes, IMAGE).unwrap();
    let inputs = InputValues::new().with(IMAGE, InputValue::Image(image));
    let request = cell_ui().prepare_request(&inputs).unwrap();
    assert_eq!(request.shape, [512, 512]);
    let dtype = request.dtype;
    let response = service.process(request.clone()).unwrap();
    (dtype, cell_ui().process_response(&request, response).unwrap())
}

fn number(outputs: &OutputValues, name: &str) -> f64 {
    match outputs.get(name) {
        Some(OutputValue::Number(x)) => *x,
        other => panic!("{name} is {other:?}"),
    }
}

#[test]
fn the_shipped_tiff_shows_cells_count_size_and_json() {
    let service = segmenter().loaded().unwrap();
    let (dtype, outputs) = run(&service, &std::fs::read(shipped_tiff()).unwrap());
    assert_eq!(dtype, InputDtype::Uint16);
    let count = number(&outputs, "count");
    assert_within_20_percent(count as usize, MASK_CELLS, "whole image");
    let mean_area = number(&outputs, "mean_area");
    assert!((200.0..800.0).contains(&mean_area), "mean cell size {mean_area}");
    let Some(OutputValue::Image(overlay)) = outputs.get("overlay") else {
        panic!("no overlay image")
    };
    assert_eq!((overlay.width, overlay.height), (512, 512));
    assert!(overlay.png.starts_with(b"\x89PNG"));
    assert!(
        overlay
            .overlay_png
            .as_ref()
            .is_some_and(|png| png.starts_with(b"\x89PNG"))
    );
    let Some(OutputValue::File(file)) = outputs.get("cells") else {
        panic!("no JSON download")
    };
    assert_eq!(
        (file.name.as_str(), file.mime.as_str()),
        ("cells.json", "application/json")
    );
    let report: serde_json::Value = serde_json::from_slice(&file.data).unwrap();
    assert_eq!(report["count"].as_f64(), Some(count));
    assert_eq!(report["instances"].as_array().unwrap().len(), count as usize);
    assert_eq!(report["areas"].as_array().unwrap().len(), count as usize);
}

#[test]
fn png_jpeg_and_8_bit_tiff_work_too() {
    let service = segmenter().loaded().unwrap();
    let plane = read_gray(&shipped_tiff()).unwrap();
    let eight: Vec<u8> = plane.data.iter().map(|v| *v as u8).collect();
    let gray8 = image::GrayImage::from_raw(512, 512, eight).unwrap();
    let gray16 = image::ImageBuffer::<image::Luma<u16>, _>::from_raw(512, 512, plane.data.clone()).unwrap();
    let encode = |image: image::DynamicImage, format: image::ImageFormat| {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    };
    let files = [
        (
            "8-bit PNG",
            encode(gray8.clone().into(), image::ImageFormat::Png),
            InputDtype::Uint8,
        ),
        (
            "16-bit PNG",
            encode(gray16.into(), image::ImageFormat::Png),
            InputDtype::Uint16,
        ),
        (
            "8-bit TIFF",
            encode(gray8.clone().into(), image::ImageFormat::Tiff),
            InputDtype::Uint8,
        ),
        (
            "JPEG",
            encode(gray8.into(), image::ImageFormat::Jpeg),
            InputDtype::Uint8,
        ),
    ];
    for (what, bytes, expected_dtype) in files {
        let (dtype, outputs) = run(&service, &bytes);
        assert_eq!(dtype, expected_dtype, "{what}");
        assert_within_20_percent(number(&outputs, "count") as usize, MASK_CELLS, what);
    }
}

#[test]
fn a_file_that_is_no_image_is_refused_by_name() {
    let err = ImageValue::decode(b"time,energy\n", IMAGE).unwrap_err();
    assert_eq!(err.field.as_deref(), Some(IMAGE));
    let err = cell_ui().prepare_request(&InputValues::new()).unwrap_err();
    assert_eq!(err.field.as_deref(), Some(IMAGE), "{err}");
}
