//! The SVR's decision function for many rows at once: `bias + Σ_j w_j exp(-γ ‖x - s_j‖²)` over 3,226
//! support vectors and 721 rows per request, 2.3 million kernel values, which made the SVR the costliest
//! of the three models.
//!
//! `‖x - s‖² = ‖x‖² + ‖s‖² - 2 x·s`, so the work is one matrix product (rows by support vectors), done
//! in register tiles of 4 rows x 4 support vectors: each value loaded is used four times and the sums
//! never leave the registers. The exponentials then run over a whole row at a time (`fast_exp`). With
//! standardised features the norms are tens at most, so rounding in the subtraction stays near 1e-14,
//! far below what changes a forecast.

use crate::fast_exp::exp_in_place;

/// Support vectors per tile (two SSE2 registers of f64 per row).
const SVS: usize = 4;
/// Rows per tile (rows predicted in pieces of a multiple of this give the same values as in one call).
pub const ROWS: usize = 4;

/// Support vectors regrouped for [`decision`]: panels of `SVS` vectors stored feature by feature.
struct Packed {
    panels: Vec<[f64; SVS]>,
    norms: Vec<f64>,
    weights: Vec<f64>,
    features: usize,
}

impl Packed {
    fn new(support: &[f64], weights: &[f64], features: usize) -> Self {
        let count = weights.len().div_ceil(SVS) * SVS;
        let vector = |j: usize| support.get(j * features..(j + 1) * features);
        let mut panels = Vec::with_capacity(count / SVS * features);
        for first in (0..count).step_by(SVS) {
            for k in 0..features {
                panels.push(std::array::from_fn(|s| vector(first + s).map_or(0.0, |v| v[k])));
            }
        }
        let norms = (0..count)
            .map(|j| vector(j).map_or(0.0, |v| v.iter().map(|a| a * a).sum()))
            .collect();
        // Padding vectors get weight 0: they add nothing.
        let mut weights = weights.to_vec();
        weights.resize(count, 0.0);
        Self {
            panels,
            norms,
            weights,
            features,
        }
    }
}

/// The decision function of an RBF-kernel SVR for every row of `rows` (row-major, `features` wide).
/// `support` holds `weights.len()` support vectors, row-major.
pub fn decision(support: &[f64], weights: &[f64], gamma: f64, bias: f64, rows: &[f64], features: usize) -> Vec<f64> {
    let packed = Packed::new(support, weights, features);
    let count = rows.len() / features;
    let mut out = Vec::with_capacity(count);
    let mut kernel = vec![vec![0.0; packed.weights.len()]; ROWS];
    let mut row = 0;
    while row < count {
        let take = if row + ROWS <= count { ROWS } else { 1 };
        let block = &rows[row * features..(row + take) * features];
        if take == ROWS {
            exponents::<ROWS>(&packed, block, gamma, &mut kernel);
        } else {
            exponents::<1>(&packed, block, gamma, &mut kernel);
        }
        for values in kernel.iter_mut().take(take) {
            exp_in_place(values);
            out.push(
                bias + packed
                    .weights
                    .iter()
                    .zip(values.iter())
                    .map(|(w, k)| w * k)
                    .sum::<f64>(),
            );
        }
        row += take;
    }
    out
}

/// `-γ ‖x - s_j‖²` for the `R` rows of `block` and every support vector, into `kernel[r][j]`.
fn exponents<const R: usize>(packed: &Packed, block: &[f64], gamma: f64, kernel: &mut [Vec<f64>]) {
    let features = packed.features;
    let xs: [&[f64]; R] = std::array::from_fn(|r| &block[r * features..(r + 1) * features]);
    let row_norms: [f64; R] = std::array::from_fn(|r| xs[r].iter().map(|a| a * a).sum());
    for (p, panel) in packed.panels.chunks_exact(features).enumerate() {
        let mut dots = [[0.0; SVS]; R];
        for (k, svs) in panel.iter().enumerate() {
            for (dot, x) in dots.iter_mut().zip(&xs) {
                let a = x[k];
                for (d, s) in dot.iter_mut().zip(svs) {
                    *d += a * s;
                }
            }
        }
        let first = p * SVS;
        for r in 0..R {
            for (s, dot) in dots[r].iter().enumerate() {
                let distance = (row_norms[r] + packed.norms[first + s] - 2.0 * dot).max(0.0);
                kernel[r][first + s] = -gamma * distance;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decision;

    #[test]
    fn matches_the_plain_sum_for_tiles_and_leftovers() {
        // 7 support vectors (one padded tile) and 6 rows (one tile of 4, two single rows).
        let features = 5;
        let support: Vec<f64> = (0..7 * features).map(|i| ((i * 37) % 23) as f64 / 11.0 - 1.0).collect();
        let weights: Vec<f64> = (0..7).map(|j| (j as f64 - 3.0) / 4.0).collect();
        let rows: Vec<f64> = (0..6 * features).map(|i| ((i * 29) % 19) as f64 / 9.0 - 1.0).collect();
        let (gamma, bias) = (0.3, 0.25);
        let got = decision(&support, &weights, gamma, bias, &rows, features);
        assert_eq!(got.len(), 6);
        for (r, value) in got.iter().enumerate() {
            let x = &rows[r * features..(r + 1) * features];
            let want: f64 = bias
                + weights
                    .iter()
                    .zip(support.chunks_exact(features))
                    .map(|(w, s)| w * (-gamma * x.iter().zip(s).map(|(a, b)| (a - b) * (a - b)).sum::<f64>()).exp())
                    .sum::<f64>();
            assert!((value - want).abs() < 1e-12, "row {r}: {value} vs {want}");
        }
    }
}
