//! The segmentation service's GUI generated from its types alone (no `CellUi`): the request's
//! `x-easymlserve-widget` asks for one image upload sent as the `{"dtype", "shape", "image"}` envelope,
//! and the response's asks for the labels drawn over that image. A real submit of a small synthetic
//! image through `/ui/submit` gives an image output with its label overlay.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::io::Cursor;

use cell_segmentation::service::CellSegmenter;
use easymlserve::prelude::*;
use easymlserve::serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_gui_uploads_an_image_and_overlays_the_labels() {
    let service = CellSegmenter::new(cell_segmentation::default_weights());
    let url = easymlserve_testkit::serve(Server::new(service).with_generated_ui()).await;
    let client = reqwest::Client::new();
    let spec: Value = client
        .get(format!("{url}/api/spec"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ui = &spec["ui"];
    assert_eq!(ui["inputs"].as_array().unwrap().len(), 1, "{ui}");
    assert_eq!(
        (&ui["inputs"][0]["kind"], &ui["inputs"][0]["label"]),
        (&"image_file".into(), &"Microscopy image".into())
    );
    assert_eq!(ui["outputs"].as_array().unwrap().len(), 1, "{ui}");
    assert_eq!(
        (&ui["outputs"][0]["kind"], &ui["outputs"][0]["label"]),
        (&"image".into(), &"Cells found".into())
    );

    // Two bright discs on a dark 48 x 48 background.
    let picture = image::GrayImage::from_fn(48, 48, |x, y| {
        let near = |cx: i32, cy: i32| (x as i32 - cx).pow(2) + (y as i32 - cy).pow(2) < 36;
        image::Luma([if near(14, 14) || near(34, 30) { 220 } else { 10 }])
    });
    let mut png = Vec::new();
    picture
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    // The form as the page sends it: one file part named after the input (written out by hand, as
    // this crate's reqwest has no multipart feature).
    let mut body = b"--cut\r\nContent-Disposition: form-data; name=\"image\"; filename=\"cells.png\"\r\n\
        Content-Type: image/png\r\n\r\n"
        .to_vec();
    body.extend_from_slice(&png);
    body.extend_from_slice(b"\r\n--cut--\r\n");
    let answer: Value = client
        .post(format!("{url}/ui/submit"))
        .header("content-type", "multipart/form-data; boundary=cut")
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown = &answer["outputs"][0];
    assert_eq!(
        (&shown["name"], &shown["kind"]),
        (&"response".into(), &"image".into()),
        "{answer}"
    );
    assert_eq!(
        (&shown["value"]["width"], &shown["value"]["height"]),
        (&48.into(), &48.into()),
        "{answer}"
    );
    assert!(
        shown["value"]["overlay_png"].is_string(),
        "the labels are drawn over the image: {answer}"
    );
}
