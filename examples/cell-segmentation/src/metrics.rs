//! Object-level scores of a predicted label image against the annotation: cells are matched one to one
//! by IoU (highest first, at least 0.5), giving F1 and the mean IoU of the matched cells.

use std::collections::HashMap;

use serde::Serialize;

use crate::postprocess::areas;

/// Matching threshold on intersection over union.
pub const IOU_THRESHOLD: f64 = 0.5;

/// How well predicted cells match annotated ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    /// Annotated cells.
    pub true_cells: usize,
    /// Predicted cells.
    pub predicted_cells: usize,
    /// Matched pairs (IoU at least 0.5).
    pub matched: usize,
    /// Precision: matched / predicted.
    pub precision: f64,
    /// Recall: matched / annotated.
    pub recall: f64,
    /// F1: 2 matched / (predicted + annotated).
    pub f1: f64,
    /// Mean IoU of the matched pairs.
    pub mean_matched_iou: f64,
}

/// Scores `predicted` against `truth` (same size; 0 is background in both).
pub fn score(predicted: &[u32], truth: &[u32]) -> Scores {
    let (pred_areas, true_areas) = (areas(predicted), areas(truth));
    let mut overlaps: HashMap<(u32, u32), u64> = HashMap::new();
    for (p, t) in predicted.iter().zip(truth) {
        if *p != 0 && *t != 0 {
            *overlaps.entry((*p, *t)).or_default() += 1;
        }
    }
    let mut pairs: Vec<(f64, u32, u32)> = overlaps
        .into_iter()
        .map(|((p, t), inter)| {
            let union = pred_areas[p as usize] + true_areas[t as usize] - inter;
            (inter as f64 / union as f64, p, t)
        })
        .filter(|(iou, _, _)| *iou >= IOU_THRESHOLD)
        .collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let (mut used_p, mut used_t) = (vec![false; pred_areas.len()], vec![false; true_areas.len()]);
    let mut ious = Vec::new();
    for (iou, p, t) in pairs {
        if !used_p[p as usize] && !used_t[t as usize] {
            used_p[p as usize] = true;
            used_t[t as usize] = true;
            ious.push(iou);
        }
    }
    let count = |a: &[u64]| a.iter().skip(1).filter(|n| **n > 0).count();
    let (predicted_cells, true_cells, matched) = (count(&pred_areas), count(&true_areas), ious.len());
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    Scores {
        true_cells,
        predicted_cells,
        matched,
        precision: ratio(matched, predicted_cells),
        recall: ratio(matched, true_cells),
        f1: ratio(2 * matched, predicted_cells + true_cells),
        mean_matched_iou: if ious.is_empty() {
            0.0
        } else {
            ious.iter().sum::<f64>() / ious.len() as f64
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_count_only_above_half_overlap() {
        // Truth: cells 1 (4 px) and 2 (4 px). Prediction: 5 covers cell 1 and one more pixel
        // (IoU 4/5), 6 covers half of cell 2 (IoU 2/4, matched), 7 is a false cell.
        let truth = [1, 1, 1, 1, 0, 2, 2, 2, 2, 0, 0];
        let predicted = [5, 5, 5, 5, 5, 6, 6, 0, 0, 0, 7];
        let s = score(&predicted, &truth);
        assert_eq!((s.true_cells, s.predicted_cells, s.matched), (2, 3, 2));
        assert!((s.f1 - 0.8).abs() < 1e-9);
        assert!((s.mean_matched_iou - (0.8 + 0.5) / 2.0).abs() < 1e-9);
        let none = score(&[0; 11], &truth);
        assert_eq!((none.f1, none.recall), (0.0, 0.0));
    }
}
