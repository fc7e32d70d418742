//! Training the U-Net on random crops of the training rows (never the held-out ones) with flips,
//! rotations, intensity changes and noise; class-weighted cross-entropy, AdamW with a cosine schedule,
//! a progress bar with the loss, and a time budget. Saves the weights as safetensors.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use candle_core::{DType, Device, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::data::{HELD_OUT_FROM_ROW, Plane, normalize, read_annotated};
use crate::postprocess::{BOUNDARY, classes_from_instances};
use crate::unet::{CLASSES, Mode, UNet};

/// Training settings.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Where the weights go.
    pub weights: PathBuf,
    /// Optimisation steps.
    pub steps: usize,
    /// Crops per step.
    pub batch: usize,
    /// Side of a square crop, a multiple of 8.
    pub crop: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Training stops when this is spent, even if steps remain; the learning rate decays over it.
    pub budget: Duration,
    /// Seed of the random crops and augmentations.
    pub seed: u64,
    /// Whether to draw a progress bar.
    pub progress: bool,
}

impl TrainOptions {
    /// The defaults used for the committed weights, writing to `weights`.
    pub fn new(weights: impl Into<PathBuf>) -> Self {
        Self {
            weights: weights.into(),
            steps: 3000,
            batch: 8,
            crop: 64,
            learning_rate: 3e-3,
            budget: Duration::from_secs(10 * 60),
            seed: 7,
            progress: true,
        }
    }
}

/// What training did.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// Steps taken (fewer than asked when the budget ran out).
    pub steps: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Mean loss over the last 50 steps.
    pub final_loss: f64,
    /// Trainable parameters.
    pub parameters: usize,
    /// Size of the weights file in bytes.
    pub file_bytes: u64,
}

/// A small, seedable random source (xorshift64*), so training is repeatable without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Standard normal (Box-Muller).
    pub fn normal(&mut self) -> f32 {
        let u = self.uniform(1e-7, 1.0);
        let v = self.uniform(0.0, 1.0);
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    }
}

/// Loss weight of each class: boundaries are few but decide whether touching cells separate.
const CLASS_WEIGHTS: [f32; CLASSES] = [1.0, 1.0, 5.0];

/// One augmented crop: the image samples and the per-class target weights (one-hot times class weight).
fn sample_crop(image: &Plane<f32>, classes: &Plane<u8>, crop: usize, rng: &mut Rng) -> (Vec<f32>, Vec<f32>) {
    let x0 = rng.below(image.width - crop + 1);
    let y0 = rng.below(image.height - crop + 1);
    let (flip_x, flip_y, transpose) = (rng.below(2) == 1, rng.below(2) == 1, rng.below(2) == 1);
    let gain = rng.uniform(0.6, 1.4);
    let offset = rng.uniform(-0.15, 0.15);
    let gamma = rng.uniform(0.7, 1.4);
    let noise = rng.uniform(0.0, 0.08);
    let mut pixels = Vec::with_capacity(crop * crop);
    let mut targets = vec![0f32; CLASSES * crop * crop];
    for y in 0..crop {
        for x in 0..crop {
            let (mut sx, mut sy) = if transpose { (y, x) } else { (x, y) };
            if flip_x {
                sx = crop - 1 - sx;
            }
            if flip_y {
                sy = crop - 1 - sy;
            }
            let i = (y0 + sy) * image.width + x0 + sx;
            let v = image.data[i].clamp(0.0, 1.5).powf(gamma) * gain + offset + noise * rng.normal();
            pixels.push(v);
            let class = usize::from(classes.data[i]);
            targets[class * crop * crop + y * crop + x] = CLASS_WEIGHTS[class];
        }
    }
    (pixels, targets)
}

/// Trains the U-Net on the training rows of the shipped image and saves it.
pub fn train(options: &TrainOptions) -> anyhow::Result<TrainReport> {
    anyhow::ensure!(
        options.crop.is_multiple_of(crate::unet::MULTIPLE) && options.crop <= HELD_OUT_FROM_ROW,
        "`crop` must be a multiple of 8 and at most {HELD_OUT_FROM_ROW}, got {}",
        options.crop
    );
    let (image, mask) = read_annotated()?;
    let (image, mask) = (image.rows(0, HELD_OUT_FROM_ROW), mask.rows(0, HELD_OUT_FROM_ROW));
    let image = Plane {
        width: image.width,
        height: image.height,
        data: normalize(&image.data),
    };
    let classes = Plane {
        width: mask.width,
        height: mask.height,
        data: classes_from_instances(&mask.data, mask.width, mask.height),
    };
    let boundary_share = classes.data.iter().filter(|c| **c == BOUNDARY).count() as f64 / classes.data.len() as f64;
    let device = Device::Cpu;
    let map = VarMap::new();
    let model = UNet::new(VarBuilder::from_varmap(&map, DType::F32, &device))?;
    let parameters: usize = map.all_vars().iter().map(|v| v.elem_count()).sum();
    let mut optimizer = AdamW::new(
        map.all_vars(),
        ParamsAdamW {
            lr: options.learning_rate,
            weight_decay: 1e-4,
            ..ParamsAdamW::default()
        },
    )?;
    let bar = if options.progress {
        ProgressBar::new(options.steps as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {pos}/{len} steps, eta {eta}  {msg}")?
            .progress_chars("=> "),
    );
    println!(
        "U-Net with {parameters} parameters; {}x{} crops, batch {}, on rows 0..{HELD_OUT_FROM_ROW} \
         ({:.1}% boundary pixels).",
        options.crop,
        options.crop,
        options.batch,
        boundary_share * 100.0
    );
    let mut rng = Rng::new(options.seed);
    let start = Instant::now();
    let mut recent: Vec<f64> = Vec::new();
    let mut steps = 0;
    let (crop, batch) = (options.crop, options.batch);
    for step in 0..options.steps {
        // The schedule follows whichever runs out first, the steps or the time budget, so the learning
        // rate has decayed when training stops either way.
        let spent = start.elapsed().as_secs_f64() / options.budget.as_secs_f64().max(1e-9);
        let progress = (step as f64 / options.steps as f64).max(spent);
        if progress >= 1.0 {
            bar.suspend(|| println!("Time budget spent after {step} steps."));
            break;
        }
        let lr = 5e-5 + 0.5 * (options.learning_rate - 5e-5) * (1.0 + (std::f64::consts::PI * progress).cos());
        optimizer.set_learning_rate(lr);
        let mut inputs = Vec::with_capacity(batch * crop * crop);
        let mut targets = Vec::with_capacity(batch * CLASSES * crop * crop);
        for _ in 0..batch {
            let (x, t) = sample_crop(&image, &classes, crop, &mut rng);
            inputs.extend(x);
            targets.extend(t);
        }
        let x = Tensor::from_vec(inputs, (batch, 1, crop, crop), &device)?;
        let t = Tensor::from_vec(targets, (batch, CLASSES, crop, crop), &device)?;
        let log_p = candle_nn::ops::log_softmax(&model.forward(&x, Mode::Training)?, 1)?;
        let loss = (log_p.mul(&t)?.sum_all()?.neg()? / t.sum_all()?.to_scalar::<f32>()? as f64)?;
        optimizer.backward_step(&loss)?;
        let value = f64::from(loss.to_scalar::<f32>()?);
        anyhow::ensure!(value.is_finite(), "the loss diverged at step {step}");
        recent.push(value);
        if recent.len() > 50 {
            recent.remove(0);
        }
        steps = step + 1;
        bar.set_position(steps as u64);
        let mean = recent.iter().sum::<f64>() / recent.len() as f64;
        bar.set_message(format!("loss {mean:.4}"));
        if bar.is_hidden() && steps.is_multiple_of(100) {
            // No terminal to draw the bar on (a log file, CI): a line every 100 steps instead.
            println!("step {steps}: loss {mean:.4}, {:.0} s", start.elapsed().as_secs_f64());
        }
    }
    bar.finish();
    if let Some(dir) = options.weights.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    map.save(&options.weights)
        .with_context(|| format!("cannot write {}", options.weights.display()))?;
    Ok(TrainReport {
        steps,
        seconds: start.elapsed().as_secs_f64(),
        final_loss: recent.iter().sum::<f64>() / recent.len().max(1) as f64,
        parameters,
        file_bytes: std::fs::metadata(&options.weights)?.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crops_carry_one_weighted_class_per_pixel() {
        let image = Plane {
            width: 20,
            height: 10,
            data: (0..200).map(|i| i as f32 / 200.0).collect(),
        };
        let classes = Plane {
            width: 20,
            height: 10,
            data: (0..200).map(|i| (i % 3) as u8).collect(),
        };
        let mut rng = Rng::new(1);
        let (pixels, targets) = sample_crop(&image, &classes, 8, &mut rng);
        assert_eq!((pixels.len(), targets.len()), (64, 3 * 64));
        for p in 0..64 {
            let set: Vec<f32> = (0..3).map(|c| targets[c * 64 + p]).filter(|w| *w > 0.0).collect();
            assert_eq!(set.len(), 1);
        }
        let u: Vec<f32> = (0..1000).map(|_| rng.uniform(2.0, 3.0)).collect();
        assert!(u.iter().all(|v| (2.0..3.0).contains(v)));
    }
}
