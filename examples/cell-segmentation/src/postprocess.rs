//! From pixels to cells: connected components, a seeded watershed (priority flood), the three-class
//! training targets (background, interior, boundary) made from an instance mask, and the step that turns
//! the network's class probabilities into an instance label image.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Pixel classes the network predicts.
pub const BACKGROUND: u8 = 0;
/// Inside a cell, away from its edge.
pub const INTERIOR: u8 = 1;
/// The outermost pixels of a cell, which separate touching cells.
pub const BOUNDARY: u8 = 2;

/// Settings of the instance step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstanceParams {
    /// A pixel is a cell pixel when its background probability is below this.
    pub foreground: f32,
    /// A pixel seeds a cell when its interior probability is above this.
    pub seed: f32,
    /// Seeds smaller than this many pixels are dropped.
    pub min_seed_area: usize,
    /// Cells smaller than this many pixels are dropped.
    pub min_cell_area: usize,
    /// When set, interior regions are split further: one seed per peak of their distance transform
    /// (largest within this many pixels), which parts touching cells the network joined.
    pub split_radius: Option<usize>,
}

impl Default for InstanceParams {
    fn default() -> Self {
        Self {
            foreground: 0.2,
            seed: 0.5,
            min_seed_area: 6,
            min_cell_area: 20,
            split_radius: None,
        }
    }
}

fn neighbours4(i: usize, width: usize, height: usize) -> impl Iterator<Item = usize> {
    let (x, y) = (i % width, i / width);
    [
        (x > 0).then(|| i - 1),
        (x + 1 < width).then(|| i + 1),
        (y > 0).then(|| i - width),
        (y + 1 < height).then(|| i + width),
    ]
    .into_iter()
    .flatten()
}

/// Labels the 4-connected regions of `mask` 1, 2, ...; returns the labels and their count.
pub fn connected_components(mask: &[bool], width: usize, height: usize) -> (Vec<u32>, u32) {
    let mut labels = vec![0u32; mask.len()];
    let mut next = 0;
    let mut stack = Vec::new();
    for start in 0..mask.len() {
        if !mask[start] || labels[start] != 0 {
            continue;
        }
        next += 1;
        labels[start] = next;
        stack.push(start);
        while let Some(i) = stack.pop() {
            for n in neighbours4(i, width, height) {
                if mask[n] && labels[n] == 0 {
                    labels[n] = next;
                    stack.push(n);
                }
            }
        }
    }
    (labels, next)
}

/// A pixel waiting in the flood: lowest elevation first, then first come first served.
#[derive(Debug, Clone, Copy)]
struct Queued {
    elevation: f32,
    order: u64,
    index: usize,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Queued {}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: `BinaryHeap` pops the greatest, the flood wants the lowest.
        other
            .elevation
            .total_cmp(&self.elevation)
            .then(other.order.cmp(&self.order))
    }
}

/// Seeded watershed by priority flood: every pixel of `mask` reachable from a marker (non-zero in
/// `markers`) takes the label of the marker whose flood reaches it first, lowest `elevation` first.
/// Pixels outside `mask`, or not connected to any marker inside it, stay 0.
pub fn seeded_watershed(elevation: &[f32], markers: &[u32], mask: &[bool], width: usize, height: usize) -> Vec<u32> {
    let mut labels = vec![0u32; markers.len()];
    let mut heap = BinaryHeap::new();
    let mut order = 0u64;
    for (i, &marker) in markers.iter().enumerate() {
        if marker != 0 && mask[i] {
            labels[i] = marker;
            heap.push(Queued {
                elevation: elevation[i],
                order,
                index: i,
            });
            order += 1;
        }
    }
    while let Some(Queued { index, .. }) = heap.pop() {
        let label = labels[index];
        for n in neighbours4(index, width, height) {
            if mask[n] && labels[n] == 0 {
                labels[n] = label;
                // A pixel is never lower than the one that flooded it, so basins fill bottom up.
                heap.push(Queued {
                    elevation: elevation[n].max(elevation[index]),
                    order,
                    index: n,
                });
                order += 1;
            }
        }
    }
    labels
}

/// Pixel count of each label; index 0 is the background.
pub fn areas(labels: &[u32]) -> Vec<u64> {
    let max = labels.iter().copied().max().unwrap_or(0) as usize;
    let mut areas = vec![0u64; max + 1];
    for &l in labels {
        areas[l as usize] += 1;
    }
    areas
}

/// Drops labels with fewer than `min_area` pixels and renumbers the rest 1..n in order of first
/// appearance (row by row); returns n.
pub fn relabel(labels: &mut [u32], min_area: usize) -> u32 {
    let areas = areas(labels);
    let mut new_id = vec![0u32; areas.len()];
    let mut next = 0;
    for l in labels.iter_mut() {
        let old = *l as usize;
        if old == 0 {
            continue;
        }
        if areas[old] < min_area as u64 {
            *l = 0;
            continue;
        }
        if new_id[old] == 0 {
            next += 1;
            new_id[old] = next;
        }
        *l = new_id[old];
    }
    next
}

/// The pixel class of every pixel of an instance mask: a labelled pixel with a 4-neighbour of another
/// label or background is `BOUNDARY`, other labelled pixels (also those at the image edge) `INTERIOR`.
pub fn classes_from_instances(instances: &[u32], width: usize, height: usize) -> Vec<u8> {
    (0..instances.len())
        .map(|i| {
            let l = instances[i];
            if l == 0 {
                BACKGROUND
            } else if neighbours4(i, width, height).any(|n| instances[n] != l) {
                BOUNDARY
            } else {
                INTERIOR
            }
        })
        .collect()
}

/// Turns per-pixel probabilities of background and interior into cells: seeds are the connected
/// interior regions, grown by a watershed over `1 - interior` inside the foreground; foreground regions
/// no seed reaches become cells of their own. Returns the labels and the number of cells.
pub fn instances_from_probabilities(
    background: &[f32],
    interior: &[f32],
    width: usize,
    height: usize,
    params: &InstanceParams,
) -> (Vec<u32>, u32) {
    let foreground: Vec<bool> = background.iter().map(|p| *p < params.foreground).collect();
    let seed_mask: Vec<bool> = interior
        .iter()
        .zip(&foreground)
        .map(|(p, fg)| *fg && *p > params.seed)
        .collect();
    let (mut seeds, _) = connected_components(&seed_mask, width, height);
    relabel(&mut seeds, params.min_seed_area);
    let mut elevation: Vec<f32> = interior.iter().map(|p| 1.0 - p).collect();
    if let Some(radius) = params.split_radius {
        let kept: Vec<bool> = seeds.iter().map(|s| *s != 0).collect();
        let distance = crate::baseline::distance_to_background(&kept, width, height);
        let peak_params = crate::baseline::BaselineParams {
            peak_radius: radius,
            min_peak_distance: 1.0,
            ..crate::baseline::BaselineParams::default()
        };
        let peaks = crate::baseline::local_maxima(&distance, width, height, &peak_params);
        seeds = connected_components(&peaks, width, height).0;
        // Flood down from the peaks: deeper inside a seed region is lower, the rest by `1 - interior`.
        for (e, d) in elevation.iter_mut().zip(&distance) {
            *e -= *d as f32;
        }
    }
    let mut labels = seeded_watershed(&elevation, &seeds, &foreground, width, height);
    let unreached: Vec<bool> = labels.iter().zip(&foreground).map(|(l, fg)| *fg && *l == 0).collect();
    let (extra, _) = connected_components(&unreached, width, height);
    let offset = labels.iter().copied().max().unwrap_or(0);
    for (l, e) in labels.iter_mut().zip(extra) {
        if e != 0 {
            *l = offset + e;
        }
    }
    let count = relabel(&mut labels, params.min_cell_area);
    (labels, count)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

    use super::*;

    /// Parses a picture: `.` is 0, digits are labels.
    fn picture(rows: &[&str]) -> (Vec<u32>, usize, usize) {
        let labels = rows
            .iter()
            .flat_map(|r| r.chars().map(|c| c.to_digit(10).unwrap_or(0)))
            .collect();
        (labels, rows[0].len(), rows.len())
    }

    const TWO_TOUCHING: [&str; 7] = [
        "............",
        ".11111222...",
        ".11111222222",
        ".11111222222",
        ".11111222222",
        ".11111222222",
        "............",
    ];

    #[test]
    fn components_are_four_connected() {
        let (labels, w, h) = picture(&["1.1", ".1.", "11."]);
        let mask: Vec<bool> = labels.iter().map(|l| *l != 0).collect();
        let (components, n) = connected_components(&mask, w, h);
        assert_eq!(n, 3);
        assert_eq!(components, [1, 0, 2, 0, 3, 0, 3, 3, 0]);
    }

    #[test]
    fn targets_mark_the_edges_between_touching_cells() {
        let (instances, w, h) = picture(&TWO_TOUCHING);
        let classes = classes_from_instances(&instances, w, h);
        let row = |y: usize| classes[y * w..(y + 1) * w].to_vec();
        assert_eq!(row(0), [0; 12]);
        assert_eq!(
            row(3),
            [0, 2, 1, 1, 1, 2, 2, 1, 1, 1, 1, 1],
            "the image edge is no boundary"
        );
        assert_eq!(row(1), [0, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0]);
    }

    #[test]
    fn perfect_probabilities_give_back_the_cells() {
        let (instances, w, h) = picture(&TWO_TOUCHING);
        let classes = classes_from_instances(&instances, w, h);
        let background: Vec<f32> = classes.iter().map(|c| f32::from(*c == BACKGROUND)).collect();
        let interior: Vec<f32> = classes.iter().map(|c| f32::from(*c == INTERIOR)).collect();
        let params = InstanceParams {
            min_seed_area: 1,
            min_cell_area: 1,
            ..InstanceParams::default()
        };
        let (labels, count) = instances_from_probabilities(&background, &interior, w, h, &params);
        assert_eq!(count, 2);
        assert_eq!(labels, instances, "the boundary pixels go back to their own cell");
    }

    #[test]
    fn watershed_splits_two_basins_at_the_ridge() {
        // Two valleys (x = 1 and x = 7) with a ridge at x = 4; both seeds flood the whole mask.
        let (w, h) = (9, 3);
        let elevation: Vec<f32> = (0..w * h)
            .map(|i| [1.0, 0.0, 1.0, 2.0, 3.0, 2.0, 1.0, 0.0, 1.0][i % w])
            .collect();
        let mut markers = vec![0; w * h];
        markers[w + 1] = 1;
        markers[w + 7] = 2;
        let mask = vec![true; w * h];
        let labels = seeded_watershed(&elevation, &markers, &mask, w, h);
        for y in 0..h {
            let row = &labels[y * w..(y + 1) * w];
            assert_eq!(&row[..4], &[1, 1, 1, 1]);
            assert_eq!(&row[5..], &[2, 2, 2, 2]);
        }
        let masked: Vec<bool> = (0..w * h).map(|i| i % w != 4).collect();
        let labels = seeded_watershed(&elevation, &markers, &masked, w, h);
        assert!(labels.iter().enumerate().all(|(i, l)| (i % w == 4) == (*l == 0)));
    }

    #[test]
    fn unseeded_regions_become_cells_and_specks_vanish() {
        let (instances, w, h) = picture(&["11..2", "11...", "....3"]);
        let background: Vec<f32> = instances.iter().map(|l| f32::from(*l == 0)).collect();
        let interior = vec![0.0; instances.len()];
        let params = InstanceParams {
            min_cell_area: 2,
            ..InstanceParams::default()
        };
        let (labels, count) = instances_from_probabilities(&background, &interior, w, h, &params);
        assert_eq!(count, 1);
        assert_eq!(labels, [1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(areas(&labels), [11, 4]);
    }
}
