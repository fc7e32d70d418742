//! The classical baseline the U-Net is measured against: Otsu threshold, Euclidean distance transform,
//! one seed per distance peak, and the seeded watershed of `postprocess` on the negated distance.

use image::{GrayImage, Luma};
use imageproc::contrast::otsu_level;
use imageproc::distance_transform::euclidean_squared_distance_transform;

use crate::postprocess::{connected_components, relabel, seeded_watershed};

/// Settings of the baseline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BaselineParams {
    /// A seed must be the largest distance within this many pixels.
    pub peak_radius: usize,
    /// A seed must lie at least this many pixels from the background.
    pub min_peak_distance: f64,
    /// Cells smaller than this many pixels are dropped.
    pub min_cell_area: usize,
}

impl Default for BaselineParams {
    fn default() -> Self {
        Self {
            peak_radius: 5,
            min_peak_distance: 3.0,
            min_cell_area: 20,
        }
    }
}

/// Segments a normalised image (0 to 1 for most pixels); returns the labels and the number of cells.
pub fn segment(image: &[f32], width: usize, height: usize, params: &BaselineParams) -> (Vec<u32>, u32) {
    let grey = GrayImage::from_fn(width as u32, height as u32, |x, y| {
        let v = image[y as usize * width + x as usize];
        Luma([(v.clamp(0.0, 1.0) * 255.0).round() as u8])
    });
    let level = otsu_level(&grey);
    let foreground: Vec<bool> = grey.as_raw().iter().map(|v| *v > level).collect();
    let distance = distance_to_background(&foreground, width, height);
    let peaks = local_maxima(&distance, width, height, params);
    let (markers, _) = connected_components(&peaks, width, height);
    let elevation: Vec<f32> = distance.iter().map(|d| -(*d as f32)).collect();
    let mut labels = seeded_watershed(&elevation, &markers, &foreground, width, height);
    let count = relabel(&mut labels, params.min_cell_area);
    (labels, count)
}

/// The Euclidean distance of every pixel to the nearest pixel outside `foreground`.
pub fn distance_to_background(foreground: &[bool], width: usize, height: usize) -> Vec<f64> {
    // The transform measures the distance to the nearest non-zero pixel, so mark the background.
    let background = GrayImage::from_fn(width as u32, height as u32, |x, y| {
        Luma([u8::from(!foreground[y as usize * width + x as usize])])
    });
    euclidean_squared_distance_transform(&background)
        .into_raw()
        .into_iter()
        .map(f64::sqrt)
        .collect()
}

/// Pixels that are the largest distance within `peak_radius` and far enough from the background.
pub fn local_maxima(distance: &[f64], width: usize, height: usize, params: &BaselineParams) -> Vec<bool> {
    let r = params.peak_radius;
    (0..distance.len())
        .map(|i| {
            let (x, y) = (i % width, i / width);
            let d = distance[i];
            d >= params.min_peak_distance
                && (y.saturating_sub(r)..(y + r + 1).min(height))
                    .all(|yy| (x.saturating_sub(r)..(x + r + 1).min(width)).all(|xx| distance[yy * width + xx] <= d))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_overlapping_discs_are_two_cells() {
        let (w, h) = (60, 40);
        let image: Vec<f32> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32, (i / w) as f32);
                let inside = |cx: f32, cy: f32| (x - cx).powi(2) + (y - cy).powi(2) <= 100.0;
                if inside(22.0, 20.0) || inside(38.0, 20.0) {
                    0.9
                } else {
                    0.1
                }
            })
            .collect();
        let (labels, count) = segment(&image, w, h, &BaselineParams::default());
        assert_eq!(count, 2);
        assert_ne!(labels[20 * w + 18], labels[20 * w + 42]);
        assert_eq!(labels[0], 0);
    }
}
