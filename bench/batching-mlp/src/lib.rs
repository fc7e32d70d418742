//! A multilayer perceptron served for the dynamic-batching benchmark (`bench/batching.sh`).
//!
//! One request is one 784-value input (an MNIST-sized image); the network has two hidden layers (2,048
//! units by default: 5.8 million weights, 23 MB) and 10 outputs. Answering one request reads every
//! weight once for one row of arithmetic, so it is bound by memory traffic; `process_batch` stacks the
//! batch into one matrix and reads the weights once for all of it. That difference is what dynamic
//! batching buys, and this crate exists to measure it. The weights are seeded pseudo-random numbers:
//! the arithmetic per request is that of a trained network of this shape, the answers mean nothing.

use easymlserve::prelude::*;
use serde::{Deserialize, Serialize};

/// Inputs per request.
pub const INPUTS: usize = 784;
/// Units per hidden layer unless set otherwise.
pub const DEFAULT_HIDDEN: usize = 2048;
/// Output scores.
pub const OUTPUTS: usize = 10;

/// One input vector.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
pub struct MlpRequest {
    /// 784 values, for example the pixels of a 28 x 28 image scaled to 0..1.
    #[schemars(length(min = 784, max = 784))]
    pub features: Vec<f32>,
}

/// The network's scores.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MlpResponse {
    /// One score per class.
    pub scores: Vec<f32>,
    /// The index of the highest score.
    pub class: usize,
}

/// One dense layer: `inputs x outputs` weights in column panels (see [`pack`]) and a bias per output.
#[derive(Debug)]
struct Dense {
    inputs: usize,
    outputs: usize,
    panels: Vec<f32>,
    bias: Vec<f32>,
}

/// Output columns per panel: a tile of `ROWS x COLS` sums (4 x 8 floats) stays in registers.
const COLS: usize = 8;
/// Batch rows one tile computes at once: each weight loaded is used for this many rows.
const ROWS: usize = 4;

impl Dense {
    /// `x` (`rows x inputs`, row-major) times the weights plus the bias.
    ///
    /// For each panel of `COLS` outputs, tiles of `ROWS` batch rows keep their sums in registers
    /// while the panel's weights stream past in memory order. One request reads every weight for one
    /// row of arithmetic; a batch reads each panel from memory once and then from the cache for the
    /// other rows, and uses every weight it loads four times.
    fn forward(&self, x: &[f32], rows: usize) -> Vec<f32> {
        assert_eq!(x.len(), rows * self.inputs, "input of the wrong length");
        let mut y = vec![0f32; rows * self.outputs];
        for (p, panel) in self.panels.chunks_exact(self.inputs * COLS).enumerate() {
            let (panel, _) = panel.as_chunks::<COLS>();
            let mut row = 0;
            while row + ROWS <= rows {
                self.tile::<ROWS>(panel, x, row, p * COLS, &mut y);
                row += ROWS;
            }
            for row in row..rows {
                self.tile::<1>(panel, x, row, p * COLS, &mut y);
            }
        }
        y
    }

    /// Rows `row..row + R` of the output columns `start..start + COLS` (fewer at the right edge).
    fn tile<const R: usize>(&self, panel: &[[f32; COLS]], x: &[f32], row: usize, start: usize, y: &mut [f32]) {
        let xs: [&[f32]; R] = std::array::from_fn(|r| &x[(row + r) * self.inputs..][..self.inputs]);
        let mut sums = [[0f32; COLS]; R];
        for (k, weights) in panel.iter().enumerate() {
            for (sum, x) in sums.iter_mut().zip(&xs) {
                let a = x[k];
                for (s, w) in sum.iter_mut().zip(weights) {
                    *s += a * w;
                }
            }
        }
        let width = COLS.min(self.outputs - start);
        for (r, sum) in sums.iter().enumerate() {
            let out = &mut y[(row + r) * self.outputs + start..][..width];
            for ((o, s), b) in out.iter_mut().zip(sum).zip(&self.bias[start..]) {
                *o = s + b;
            }
        }
    }
}

/// Reorders row-major `inputs x outputs` weights into panels of `COLS` columns, each panel stored input
/// by input (zero-padded at the right edge), so `Dense::tile` reads them in memory order.
fn pack(weights: &[f32], inputs: usize, outputs: usize) -> Vec<f32> {
    let panels = outputs.div_ceil(COLS);
    let mut packed = Vec::with_capacity(panels * inputs * COLS);
    for start in (0..outputs).step_by(COLS) {
        let end = (start + COLS).min(outputs);
        for k in 0..inputs {
            packed.extend_from_slice(&weights[k * outputs + start..k * outputs + end]);
            packed.extend(std::iter::repeat_n(0.0, COLS - (end - start)));
        }
    }
    packed
}

/// The network: three dense layers with ReLU between them.
#[derive(Debug)]
pub struct Mlp {
    layers: Vec<Dense>,
}

impl Mlp {
    /// A network with `hidden` units per hidden layer and weights drawn from `seed` (scaled like He
    /// initialisation).
    pub fn new(seed: u64, hidden: usize) -> Self {
        let mut state = seed.max(1);
        let mut uniform = move || {
            // xorshift64*: plenty for benchmark weights, and no extra dependency.
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            let bits = state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40;
            bits as f32 / (1u64 << 24) as f32 * 2.0 - 1.0
        };
        let shapes = [(INPUTS, hidden), (hidden, hidden), (hidden, OUTPUTS)];
        let layers = shapes
            .iter()
            .map(|&(inputs, outputs)| {
                let scale = (6.0 / inputs as f32).sqrt();
                let weights: Vec<f32> = (0..inputs * outputs).map(|_| uniform() * scale).collect();
                Dense {
                    inputs,
                    outputs,
                    panels: pack(&weights, inputs, outputs),
                    bias: (0..outputs).map(|_| uniform() * 0.01).collect(),
                }
            })
            .collect();
        Self { layers }
    }

    /// Scores of `rows` inputs laid out one after another, one `OUTPUTS`-long row each.
    pub fn forward(&self, inputs: &[f32], rows: usize) -> Vec<Vec<f32>> {
        let mut x = inputs.to_vec();
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(&x, rows);
            if i + 1 < self.layers.len() {
                x.iter_mut().for_each(|v| *v = v.max(0.0));
            }
        }
        x.chunks(OUTPUTS).map(<[f32]>::to_vec).collect()
    }
}

/// The MLP as a service, batched or not depending on the server's `max_batch_size`.
#[derive(Debug)]
pub struct MlpService {
    model: Mlp,
    hidden: usize,
}

impl MlpService {
    /// The service with `hidden` units per hidden layer and weights drawn from `seed`.
    pub fn new(seed: u64, hidden: usize) -> Self {
        Self {
            model: Mlp::new(seed, hidden),
            hidden,
        }
    }
}

fn response(scores: Vec<f32>) -> MlpResponse {
    let class = scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |(i, _)| i);
    MlpResponse { scores, class }
}

impl Service for MlpService {
    type Request = MlpRequest;
    type Response = MlpResponse;

    fn info(&self) -> ServiceInfo {
        ServiceInfo::new("Batching MLP").description(format!(
            "A 784-{0}-{0}-10 perceptron with seeded weights, for measuring dynamic batching.",
            self.hidden
        ))
    }

    fn process(&self, request: MlpRequest) -> Result<MlpResponse, ServiceError> {
        let mut rows = self.model.forward(&request.features, 1);
        rows.pop()
            .map(response)
            .ok_or_else(|| ServiceError::failed("no output row"))
    }

    fn process_batch(&self, requests: Vec<MlpRequest>) -> Vec<Result<MlpResponse, ServiceError>> {
        let rows = requests.len();
        let inputs: Vec<f32> = requests.into_iter().flat_map(|r| r.features).collect();
        let outputs = self.model.forward(&inputs, rows);
        outputs.into_iter().map(|scores| Ok(response(scores))).collect()
    }

    fn example_request(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({ "features": vec![0.5; INPUTS] }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The layer's product worked out one weight at a time, in f64, from the packed panels.
    fn naive(layer: &Dense, x: &[f32]) -> Vec<f64> {
        (0..layer.outputs)
            .map(|j| {
                let panel = &layer.panels[(j / COLS) * layer.inputs * COLS..];
                let dot: f64 = (0..layer.inputs)
                    .map(|k| f64::from(x[k]) * f64::from(panel[k * COLS + j % COLS]))
                    .sum();
                dot + f64::from(layer.bias[j])
            })
            .collect()
    }

    #[test]
    fn tiles_compute_the_plain_product_at_every_edge() {
        // 13 outputs: one full panel and one padded; 7 rows: one tile of 4 and three single rows.
        let mlp = Mlp::new(3, 13);
        let layer = &mlp.layers[1];
        let x: Vec<f32> = (0..7 * 13).map(|i| ((i * 7) % 11) as f32 / 11.0 - 0.4).collect();
        let y = layer.forward(&x, 7);
        for row in 0..7 {
            let expected = naive(layer, &x[row * 13..(row + 1) * 13]);
            for (j, (got, want)) in y[row * 13..(row + 1) * 13].iter().zip(&expected).enumerate() {
                assert!(
                    (f64::from(*got) - want).abs() < 1e-5,
                    "row {row} column {j}: {got} vs {want}"
                );
            }
        }
    }

    fn input(k: usize) -> Vec<f32> {
        (0..INPUTS).map(|i| ((i * 31 + k * 17) % 97) as f32 / 97.0).collect()
    }

    #[test]
    fn a_batch_gives_each_request_the_answer_it_gets_alone() {
        let service = MlpService::new(7, 64);
        let requests: Vec<_> = (0..5).map(|k| MlpRequest { features: input(k) }).collect();
        let alone: Vec<_> = requests.iter().map(|r| service.process(r.clone()).unwrap()).collect();
        let batched = service.process_batch(requests);
        assert_eq!(batched.len(), 5);
        for (k, (one, many)) in alone.iter().zip(batched).enumerate() {
            let many = many.unwrap();
            assert_eq!(one.class, many.class, "request {k}");
            for (a, b) in one.scores.iter().zip(&many.scores) {
                assert!((a - b).abs() <= 1e-4 * a.abs().max(1.0), "request {k}: {a} vs {b}");
            }
        }
        assert!(
            alone.windows(2).any(|w| w[0].scores != w[1].scores),
            "inputs gave identical scores"
        );
    }
}
