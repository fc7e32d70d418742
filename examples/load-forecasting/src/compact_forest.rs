//! The random forest in a compact form for prediction: 24-byte nodes in one array per tree, and rows
//! walked tree by tree, so a tree stays in the cache while all the rows of a request pass through it.
//!
//! smartcore keeps 80-byte nodes and walks each row through all trees in turn; on the 100-tree forest
//! (about 4 million nodes) nearly every step of that walk missed the cache and the forest cost more CPU
//! per request than the other two models together (BENCHMARKS.md). smartcore does not expose its nodes,
//! so they are read from the forest's own serde encoding into the mirror types below, which follow
//! smartcore 0.7's field order exactly; a test checks the predictions against smartcore's.

use crate::features::N_FEATURES;
use crate::models::ForestPart;

/// One node: a split `x[feature] <= threshold ? yes : no`, or a leaf (`feature == LEAF`) whose value
/// is `threshold`.
#[derive(Debug, Clone, Copy)]
struct Node {
    threshold: f64,
    feature: u32,
    yes: u32,
    no: u32,
}

const LEAF: u32 = u32::MAX;

/// The trees of a whole forest, ready to predict.
#[derive(Debug, Default)]
pub struct CompactForest {
    trees: Vec<Vec<Node>>,
}

impl CompactForest {
    /// Reads the trees of every part.
    pub fn from_parts(parts: &[ForestPart]) -> anyhow::Result<Self> {
        let mut trees = Vec::new();
        for (_, part) in parts {
            // The part's serde encoding, read back into the mirror types: the only way to its nodes.
            let bytes = postcard::to_stdvec(part)?;
            let mirror: mirror::RandomForestRegressor = postcard::from_bytes(&bytes)?;
            let forest = mirror
                .forest_regressor
                .ok_or_else(|| anyhow::anyhow!("the random forest is not fitted"))?;
            for tree in forest.trees.unwrap_or_default() {
                trees.push(compact(&tree.nodes)?);
            }
        }
        if trees.is_empty() {
            anyhow::bail!("the random forest has no trees");
        }
        Ok(Self { trees })
    }

    /// Number of trees.
    pub fn len(&self) -> usize {
        self.trees.len()
    }

    /// Whether there are no trees (never, once built).
    pub fn is_empty(&self) -> bool {
        self.trees.is_empty()
    }

    /// Mean over all trees for each feature row of `x` (row-major, flat); the trees are split over
    /// two threads.
    pub fn predict(&self, x: &[f64]) -> Vec<f64> {
        let rows = x.len() / N_FEATURES;
        let (first, second) = self.trees.split_at(self.trees.len() / 2);
        let (a, b) = std::thread::scope(|scope| {
            let helper = scope.spawn(|| sum_over(first, x, rows));
            (helper.join(), sum_over(second, x, rows))
        });
        // A panic in the helper cannot happen (indices are checked when the trees are built); if it
        // did, predicting on this thread alone still gives the right answer.
        let a = a.unwrap_or_else(|_| sum_over(first, x, rows));
        let n = self.trees.len() as f64;
        a.iter().zip(b).map(|(a, b)| (a + b) / n).collect()
    }
}

/// The sum of the trees' outputs for each row, tree by tree.
fn sum_over(trees: &[Vec<Node>], x: &[f64], rows: usize) -> Vec<f64> {
    let mut sums = vec![0.0; rows];
    for tree in trees {
        for (sum, row) in sums.iter_mut().zip(x.chunks_exact(N_FEATURES)) {
            let mut node = tree[0];
            while node.feature != LEAF {
                let next = if row[node.feature as usize] <= node.threshold {
                    node.yes
                } else {
                    node.no
                };
                node = tree[next as usize];
            }
            *sum += node.threshold;
        }
    }
    sums
}

/// Converts smartcore's nodes, checking every index so prediction never needs to.
fn compact(nodes: &[mirror::Node]) -> anyhow::Result<Vec<Node>> {
    let len = nodes.len();
    anyhow::ensure!(len > 0 && len < LEAF as usize, "a tree has {len} nodes");
    nodes
        .iter()
        .map(|n| match (n.true_child, n.false_child) {
            (Some(yes), Some(no)) if yes < len && no < len && n.split_feature < N_FEATURES => Ok(Node {
                // smartcore compares with NaN (always false) when a split has no value; so do we.
                threshold: n.split_value.unwrap_or(f64::NAN),
                feature: n.split_feature as u32,
                yes: yes as u32,
                no: no as u32,
            }),
            (None, _) => Ok(Node {
                threshold: n.output,
                feature: LEAF,
                yes: 0,
                no: 0,
            }),
            _ => anyhow::bail!("a tree node points outside its tree"),
        })
        .collect()
}

/// smartcore 0.7's serde layout of a fitted random forest regressor, field for field (postcard is not
/// self-describing, so order and types must match; fields we do not use are read and dropped).
mod mirror {
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct RandomForestRegressor {
        pub forest_regressor: Option<BaseForest>,
    }

    #[derive(Deserialize)]
    pub struct BaseForest {
        pub trees: Option<Vec<BaseTree>>,
        pub _num_features: Option<usize>,
        pub _samples: Option<Vec<Vec<bool>>>,
    }

    #[derive(Deserialize)]
    pub struct BaseTree {
        pub nodes: Vec<Node>,
        pub _parameters: Option<BaseTreeParameters>,
        pub _depth: u16,
        pub _root_mass: f64,
        pub _phantom_tx: (),
        pub _phantom_ty: (),
        pub _phantom_x: (),
        pub _phantom_y: (),
    }

    #[derive(Deserialize)]
    pub struct BaseTreeParameters {
        pub _max_depth: Option<u16>,
        pub _min_samples_leaf: usize,
        pub _min_samples_split: usize,
        pub _seed: Option<u64>,
        pub _splitter: Splitter,
    }

    #[derive(Deserialize)]
    pub enum Splitter {
        Random,
        Best,
    }

    #[derive(Deserialize)]
    pub struct Node {
        pub output: f64,
        pub split_feature: usize,
        pub split_value: Option<f64>,
        pub _split_score: Option<f64>,
        pub true_child: Option<usize>,
        pub false_child: Option<usize>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::{FitSettings, Forest};

    #[test]
    fn predicts_what_smartcore_predicts() {
        // A small nonlinear problem with ties and constant columns, so the trees have real splits.
        let rows = 300;
        let x: Vec<f64> = (0..rows * N_FEATURES)
            .map(|i| ((i * 7919) % 101) as f64 / 10.0 + if i % N_FEATURES == 3 { 1.0 } else { 0.0 })
            .collect();
        let y: Vec<f64> = x.chunks_exact(N_FEATURES).map(|r| (r[0] * r[1]).sin() + r[2]).collect();
        let settings = FitSettings {
            trees: 12,
            ..FitSettings::default()
        };
        let parts: Vec<ForestPart> = (0..Forest::part_count(settings.trees))
            .map(|i| Forest::fit_part(&x, &y, &settings, i).unwrap())
            .collect();
        let compact = CompactForest::from_parts(&parts).unwrap();
        assert_eq!(compact.len(), 12);
        let ours = compact.predict(&x);
        let matrix = smartcore::linalg::basic::matrix::DenseMatrix::new(rows, N_FEATURES, x.clone(), false).unwrap();
        let mut theirs = vec![0.0; rows];
        for (trees, part) in &parts {
            let p = part.predict(&matrix).unwrap();
            theirs
                .iter_mut()
                .zip(p)
                .for_each(|(t, v)| *t += v * *trees as f64 / 12.0);
        }
        for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
            assert!((a - b).abs() < 1e-9, "row {i}: {a} vs smartcore {b}");
        }
        assert!(
            ours.iter().any(|v| (v - ours[0]).abs() > 1e-6),
            "the forest predicts a constant"
        );
    }
}
