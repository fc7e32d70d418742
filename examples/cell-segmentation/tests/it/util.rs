//! Helpers shared by the integration tests: the shipped data, a service on a free port, and the cell
//! count of a label image within the held-out rows.

#![allow(dead_code)] // the desktop tests, built only with the `desktop` feature, use some of these

use std::collections::HashSet;
use std::path::PathBuf;

use cell_segmentation::data::HELD_OUT_FROM_ROW;
use cell_segmentation::service::CellSegmenter;
use cell_segmentation::ui::cell_ui;
use easymlserve::prelude::*;

/// `data/img2d.tif`, the shipped 16-bit image.
pub fn shipped_tiff() -> PathBuf {
    cell_segmentation::data::image_path()
}

/// The service with the committed weights.
pub fn segmenter() -> CellSegmenter {
    CellSegmenter::new(cell_segmentation::default_weights())
}

/// Serves `service` with the web GUI on 127.0.0.1:0 in this runtime until the test ends; returns the
/// base URL once the model is loaded.
pub async fn serve(service: CellSegmenter) -> String {
    easymlserve_testkit::serve(Server::new(service).with_ui(cell_ui())).await
}

/// Distinct non-zero labels with at least one pixel in the held-out rows of a 512-wide image.
pub fn cells_in_held_out_rows(labels: &[u32], width: usize) -> usize {
    labels[HELD_OUT_FROM_ROW * width..]
        .iter()
        .filter(|l| **l != 0)
        .collect::<HashSet<_>>()
        .len()
}

/// Asserts `found` is within 20% of `expected`.
pub fn assert_within_20_percent(found: usize, expected: usize, what: &str) {
    let (lo, hi) = (expected as f64 * 0.8, expected as f64 * 1.2);
    assert!(
        (lo..=hi).contains(&(found as f64)),
        "{what}: found {found} cells, the mask has {expected} (allowed {lo:.0} to {hi:.0})"
    );
}
