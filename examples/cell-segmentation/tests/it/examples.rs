//! The segmentation page's examples to click (issue 18 item 1): the shipped image and its crop, listed
//! with thumbnails; with `--cache-examples` a click on the crop fills the image input with
//! `crop2d.png` and shows its cells at once. The shipped crop is checked to be the crop it claims to be
//! (regenerate it with `UPDATE_CROP=1`).

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use cell_segmentation::examples::{CROP, crop_of_shipped_image};
use cell_segmentation::ui::cell_ui;
use easymlserve::prelude::*;
use easymlserve_testkit::Browser;

use crate::util::segmenter;

#[test]
fn the_shipped_crop_is_the_crop_of_the_shipped_image() {
    let made = crop_of_shipped_image().unwrap();
    let path = cell_segmentation::example_dir().join("data/crop2d.png");
    if std::env::var_os("UPDATE_CROP").is_some() {
        std::fs::write(&path, &made).unwrap();
    }
    let shipped = image::load_from_memory(&std::fs::read(&path).unwrap())
        .unwrap()
        .into_luma16();
    let made = image::load_from_memory(&made).unwrap().into_luma16();
    assert_eq!((shipped.width(), shipped.height()), (CROP.2, CROP.2));
    assert!(
        shipped == made,
        "data/crop2d.png differs; regenerate with UPDATE_CROP=1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cached_example_shows_its_cells_on_click() {
    let config = ServerConfig {
        cache_examples: true,
        ..Default::default()
    };
    let url = easymlserve_testkit::serve(Server::new(segmenter()).config(config).with_ui(cell_ui())).await;
    let browser = Browser::start(1280, 1600).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    assert_eq!(browser.count("#examples .example").await, 2);
    assert_eq!(browser.count("#examples img.example-thumb").await, 2, "both are images");
    let loaded =
        "return [...document.querySelectorAll('#examples img')].every((i) => i.complete && i.naturalWidth > 0)";
    for _ in 0..100 {
        if browser.js(loaded).await == serde_json::Value::Bool(true) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        browser.js(loaded).await,
        serde_json::Value::Bool(true),
        "the thumbnails decode"
    );

    browser.click("#example-1").await;
    browser.wait_for_text("#status", "computed at start").await;
    assert_eq!(browser.text("#field-image .file-name").await, "crop2d.png");
    browser.wait_for_text("#field-image .preview", "192 x 192 px").await;
    assert_eq!(browser.count("#out-overlay img.overlay").await, 1, "no label overlay");
    let count: f64 = browser.text("#out-count .number-value").await.trim().parse().unwrap();
    assert!((5.0..=80.0).contains(&count), "{count} cells in a 192 px crop");
    browser.close().await;
}
