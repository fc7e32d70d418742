//! The web GUI in headless Chromium: upload the shipped 16-bit TIFF, press Submit, and find the coloured
//! overlay, a plausible cell count, the mean size and the JSON download on the page; then the page's
//! screenshots in both themes.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use crate::util::{segmenter, serve, shipped_tiff};
use easymlserve_testkit::Browser;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploading_the_tiff_shows_the_cells() {
    let url = serve(segmenter()).await;
    let browser = Browser::start(1280, 1600).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    assert_eq!(browser.text("#title").await, "Cell segmentation");
    browser.upload("image", &shipped_tiff()).await;
    browser.wait_for_text("#field-image .preview", "512 x 512 px").await;
    browser.click("#submit").await;
    browser.wait_for_text("#status", "Done in").await;
    assert_eq!(browser.count("#out-overlay img.overlay").await, 1, "no label overlay");
    let count_text = browser.text("#out-count .number-value").await;
    let count: f64 = count_text
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("cell count {count_text:?}"));
    assert!((100.0..=150.0).contains(&count), "{count} cells; the mask has 125");
    let size = browser.text("#out-mean_area .number-value").await;
    assert!(size.ends_with("pixels"), "{size}");
    assert_eq!(browser.text("#out-cells a.file-download").await, "Download cells.json");
    // The README's pictures of this page (written with EASYMLSERVE_SCREENSHOTS set).
    browser.screenshots_light_and_dark("segmentation", 1280).await;
    browser.close().await;
}
