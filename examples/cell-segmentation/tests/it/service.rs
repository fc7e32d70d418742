//! The service over real HTTP on 127.0.0.1:0 with the committed weights: the shipped image segmented with
//! a cell count close to the annotation's in the held-out rows, every dtype and shape form, and each 422
//! with the field it names.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use crate::util::{assert_within_20_percent, cells_in_held_out_rows, segmenter, serve, shipped_tiff};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cell_segmentation::data::{read_annotated, read_gray};
use cell_segmentation::envelope::{ImageRequest, LabelDtype, LabelResponse, Limits};
use serde_json::{Value, json};

async fn post(url: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}/process"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_image_gives_about_as_many_cells_as_the_mask() {
    let url = serve(segmenter()).await;
    let image = read_gray(&shipped_tiff()).unwrap();
    let request = ImageRequest::from_gray16(image.width, image.height, &image.data);
    let (status, body) = post(&url, &serde_json::to_value(&request).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["dtype"], "uint16");
    assert_eq!(body["shape"], json!([512, 512]));
    let response: LabelResponse = serde_json::from_value(body).unwrap();
    let (width, height, labels) = response.decode().unwrap();
    assert_eq!((width, height), (512, 512));
    let (_, mask) = read_annotated().unwrap();
    let expected = cells_in_held_out_rows(&mask.data, 512);
    let found = cells_in_held_out_rows(&labels, 512);
    assert_within_20_percent(found, expected, "held-out rows 384..512");

    // The same pixels as uint8, and as uint16 [H, W, 3] with junk in channels 1 and 2, give the same labels.
    let bytes: Vec<u8> = image.data.iter().map(|v| *v as u8).collect();
    let as_u8 = ImageRequest::from_gray8(512, 512, &bytes);
    let (status, body) = post(&url, &serde_json::to_value(&as_u8).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_value::<LabelResponse>(body)
            .unwrap()
            .decode()
            .unwrap()
            .2,
        labels
    );
    let rgb: Vec<u8> = image
        .data
        .iter()
        .flat_map(|v| [*v, 9_999, 65_535])
        .flat_map(u16::to_le_bytes)
        .collect();
    let body = json!({"dtype": "uint16", "shape": [512, 512, 3], "image": STANDARD.encode(rgb)});
    let (status, body) = post(&url, &body).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        serde_json::from_value::<LabelResponse>(body)
            .unwrap()
            .decode()
            .unwrap()
            .2,
        labels
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blank_image_has_no_cells_and_keeps_its_shape() {
    let url = serve(segmenter()).await;
    let request = ImageRequest::from_gray8(40, 24, &[17; 40 * 24]);
    let (status, body) = post(&url, &serde_json::to_value(&request).unwrap()).await;
    assert_eq!(status, 200, "{body}");
    let response: LabelResponse = serde_json::from_value(body).unwrap();
    assert_eq!(response.dtype, LabelDtype::Uint16);
    let (w, h, labels) = response.decode().unwrap();
    assert_eq!((w, h), (40, 24));
    assert!(labels.iter().all(|l| *l == 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_request_is_a_422_naming_its_field() {
    let url = serve(segmenter()).await;
    let ok = STANDARD.encode([0u8; 256]);
    let cases = [
        (
            json!({"dtype": "float32", "shape": [16, 16], "image": ok}),
            "dtype",
            "must be one of",
        ),
        (
            json!({"dtype": "uint8", "shape": [16, 17], "image": ok}),
            "shape",
            "needs 272 bytes, but `image` holds 256",
        ),
        (
            json!({"dtype": "uint16", "shape": [16, 16], "image": ok}),
            "shape",
            "needs 512 bytes",
        ),
        (
            json!({"dtype": "uint8", "shape": [16, 16], "image": "@@@not base64"}),
            "image",
            "not valid base64",
        ),
        (
            json!({"dtype": "uint8", "shape": [8, 32], "image": ok}),
            "shape",
            "too small",
        ),
        (
            json!({"dtype": "uint8", "shape": [300000, 300000], "image": ok}),
            "shape",
            "too large",
        ),
        (
            json!({"dtype": "uint8", "shape": [16, 16, 0], "image": ok}),
            "shape",
            "channels",
        ),
        (
            json!({"dtype": "uint8", "shape": [16], "image": ok}),
            "shape",
            "at least 2",
        ),
        (json!({"dtype": "uint8", "shape": [16, 16]}), "image", "is required"),
        (
            json!({"dtype": "uint8", "shape": [16, -16], "image": ok}),
            "shape[1]",
            "",
        ),
    ];
    for (body, field, needle) in cases {
        let (status, answer) = post(&url, &body).await;
        assert_eq!(status, 422, "{body} -> {answer}");
        assert_eq!(answer["field"], field, "{body} -> {answer}");
        let message = answer["error"].as_str().unwrap();
        assert!(message.contains(needle), "{body}: {message:?} lacks {needle:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_size_limit_is_configurable() {
    let limits = Limits {
        max_pixels: 100 * 100,
        ..Limits::default()
    };
    let url = serve(segmenter().with_limits(limits)).await;
    let request = ImageRequest::from_gray8(101, 100, &vec![0; 101 * 100]);
    let (status, answer) = post(&url, &serde_json::to_value(&request).unwrap()).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        answer["error"],
        "`shape`: the image is too large: 100 x 101 pixels, the most is 10000 pixels"
    );
    let request = ImageRequest::from_gray8(100, 100, &vec![0; 100 * 100]);
    assert_eq!(post(&url, &serde_json::to_value(&request).unwrap()).await.0, 200);
}
