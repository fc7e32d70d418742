//! Scores the U-Net and the classical baseline on the held-out rows of the shipped image, and times the
//! model on the whole 512 x 512 image.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::baseline::{BaselineParams, segment};
use crate::data::{HELD_OUT_FROM_ROW, normalize, read_annotated};
use crate::metrics::{Scores, score};
use crate::postprocess::InstanceParams;
use crate::service::segment_with;
use crate::unet::UNet;

/// The evaluation's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Which pixels were scored.
    pub held_out: String,
    /// The U-Net's scores.
    pub unet: Scores,
    /// The baseline's scores.
    pub baseline: Scores,
    /// Milliseconds the U-Net and post-processing took on the whole 512 x 512 image.
    pub full_image_ms: f64,
}

/// Evaluates the weights in `weights` on the held-out rows.
pub fn evaluate(weights: &Path) -> anyhow::Result<Evaluation> {
    let model = UNet::load(weights)?;
    let (image, mask) = read_annotated()?;
    let (test_image, test_mask) = (
        image.rows(HELD_OUT_FROM_ROW, image.height),
        mask.rows(HELD_OUT_FROM_ROW, mask.height),
    );
    let (w, h) = (test_image.width, test_image.height);
    let params = InstanceParams::default();
    let (unet_labels, _) = segment_with(&model, &test_image.data, w, h, &params)?;
    let (baseline_labels, _) = segment(&normalize(&test_image.data), w, h, &BaselineParams::default());
    let start = Instant::now();
    segment_with(&model, &image.data, image.width, image.height, &params)?;
    let full_image_ms = start.elapsed().as_secs_f64() * 1e3;
    Ok(Evaluation {
        held_out: format!(
            "rows {HELD_OUT_FROM_ROW}..{} (all {} columns)",
            image.height, image.width
        ),
        unet: score(&unet_labels, &test_mask.data),
        baseline: score(&baseline_labels, &test_mask.data),
        full_image_ms,
    })
}

/// Scores the U-Net on the training rows for a grid of seed and foreground thresholds, to choose the
/// post-processing settings without looking at the held-out rows.
pub fn tune(weights: &Path) -> anyhow::Result<Vec<(InstanceParams, Scores)>> {
    let model = UNet::load(weights)?;
    let (image, mask) = read_annotated()?;
    let (train_image, train_mask) = (image.rows(0, HELD_OUT_FROM_ROW), mask.rows(0, HELD_OUT_FROM_ROW));
    let (w, h) = (train_image.width, train_image.height);
    let (background, interior) = model.predict(&normalize(&train_image.data), w, h)?;
    let mut results = Vec::new();
    for split_radius in [None, Some(7), Some(9), Some(11)] {
        for foreground in [0.2, 0.3, 0.5] {
            let params = InstanceParams {
                split_radius,
                foreground,
                ..InstanceParams::default()
            };
            let (labels, _) = crate::postprocess::instances_from_probabilities(&background, &interior, w, h, &params);
            results.push((params, score(&labels, &train_mask.data)));
        }
    }
    Ok(results)
}
