//! The model: a small U-Net in candle (CPU) with three poolings and 8 to 64 channels, predicting three
//! pixel classes (background, cell interior, cell boundary); and whole-image prediction, tiled so large
//! images need bounded memory.

use std::path::Path;

use anyhow::Context;
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, VarBuilder, conv2d};

/// Channels at full, 1/2, 1/4 and 1/8 resolution.
pub const CHANNELS: [usize; 4] = [8, 16, 32, 64];
/// Number of output classes.
pub const CLASSES: usize = 3;
/// Inputs must have sides divisible by this (three 2 x 2 poolings).
pub const MULTIPLE: usize = 8;
/// Tiles of this many pixels a side are predicted at once, each with `TILE_MARGIN` pixels of context.
pub const TILE: usize = 512;
/// Context around a tile, cut off after prediction.
pub const TILE_MARGIN: usize = 48;

/// Two 3 x 3 convolutions with ReLU.
#[derive(Debug)]
struct Block {
    first: Conv2d,
    second: Conv2d,
}

impl Block {
    fn new(vb: VarBuilder<'_>, from: usize, to: usize) -> candle_core::Result<Self> {
        let same = Conv2dConfig {
            padding: 1,
            ..Conv2dConfig::default()
        };
        Ok(Self {
            first: conv2d(from, to, 3, same, vb.pp("conv1"))?,
            second: conv2d(to, to, 3, same, vb.pp("conv2"))?,
        })
    }

    fn forward(&self, x: &Tensor, mode: Mode) -> candle_core::Result<Tensor> {
        conv(&self.second, &conv(&self.first, x, mode)?.relu()?, mode)?.relu()
    }
}

/// How convolutions run: candle's `conv2d` for inference; for training, the same arithmetic as a stack
/// of shifted copies times the weight matrix, whose gradient is two matrix products (candle's CPU
/// gradient of `conv2d` goes through a direct transposed convolution, about ten times slower here).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Fast forward pass.
    Inference,
    /// Forward pass with a fast gradient.
    Training,
}

/// A same-padded convolution with a 3 x 3 or 1 x 1 kernel, in either mode.
fn conv(layer: &Conv2d, x: &Tensor, mode: Mode) -> candle_core::Result<Tensor> {
    if mode == Mode::Inference {
        return layer.forward(x);
    }
    let (b, c, h, w) = x.dims4()?;
    let weight = layer.weight();
    let (out, _, k, _) = weight.dims4()?;
    let columns = if k == 1 {
        x.reshape((b, c, h * w))?
    } else {
        let padded = x.pad_with_zeros(2, 1, 1)?.pad_with_zeros(3, 1, 1)?;
        let mut shifts = Vec::with_capacity(9);
        for dy in 0..3 {
            for dx in 0..3 {
                shifts.push(padded.narrow(2, dy, h)?.narrow(3, dx, w)?);
            }
        }
        // [b, c, 9, h, w]: the column index c * 9 + k matches the weight layout [out, c, 3, 3].
        Tensor::stack(&shifts, 2)?.reshape((b, c * 9, h * w))?
    };
    let mut y = weight.reshape((out, c * k * k))?.broadcast_matmul(&columns)?;
    if let Some(bias) = layer.bias() {
        y = y.broadcast_add(&bias.reshape((1, out, 1))?)?;
    }
    y.reshape((b, out, h, w))
}

/// The U-Net: an encoder of three blocks with pooling, a middle block, and a decoder that upsamples and
/// joins the encoder's features at each scale; a 1 x 1 convolution gives the class scores.
#[derive(Debug)]
pub struct UNet {
    down: Vec<Block>,
    middle: Block,
    up: Vec<Block>,
    head: Conv2d,
}

impl UNet {
    /// Builds the network, creating (training) or reading (inference) its weights through `vb`.
    pub fn new(vb: VarBuilder<'_>) -> candle_core::Result<Self> {
        let [c0, c1, c2, c3] = CHANNELS;
        let down = vec![
            Block::new(vb.pp("down0"), 1, c0)?,
            Block::new(vb.pp("down1"), c0, c1)?,
            Block::new(vb.pp("down2"), c1, c2)?,
        ];
        let middle = Block::new(vb.pp("middle"), c2, c3)?;
        let up = vec![
            Block::new(vb.pp("up2"), c3 + c2, c2)?,
            Block::new(vb.pp("up1"), c2 + c1, c1)?,
            Block::new(vb.pp("up0"), c1 + c0, c0)?,
        ];
        let head = conv2d(c0, CLASSES, 1, Conv2dConfig::default(), vb.pp("head"))?;
        Ok(Self { down, middle, up, head })
    }

    /// Loads the weights from a safetensors file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let tensors = candle_core::safetensors::load(path, &Device::Cpu)
            .with_context(|| format!("cannot read the weights file {}", path.display()))?;
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
        Self::new(vb).with_context(|| format!("{} does not hold this U-Net's weights", path.display()))
    }

    /// Class scores (logits), `[batch, CLASSES, h, w]`, of images `[batch, 1, h, w]` whose sides are
    /// multiples of `MULTIPLE`.
    pub fn forward(&self, x: &Tensor, mode: Mode) -> candle_core::Result<Tensor> {
        let mut skips = Vec::with_capacity(self.down.len());
        let mut x = x.clone();
        for block in &self.down {
            let features = block.forward(&x, mode)?;
            x = features.max_pool2d(2)?;
            skips.push(features);
        }
        x = self.middle.forward(&x, mode)?;
        for (block, skip) in self.up.iter().zip(skips.iter().rev()) {
            let (_, _, h, w) = skip.dims4()?;
            x = block.forward(&Tensor::cat(&[&x.upsample_nearest2d(h, w)?, skip], 1)?, mode)?;
        }
        conv(&self.head, &x, mode)
    }

    /// Class probabilities of a normalised image: `(background, interior)`, each `width * height`.
    pub fn predict(&self, image: &[f32], width: usize, height: usize) -> anyhow::Result<(Vec<f32>, Vec<f32>)> {
        let mut background = vec![0f32; width * height];
        let mut interior = vec![0f32; width * height];
        let whole = width <= TILE + 2 * TILE_MARGIN && height <= TILE + 2 * TILE_MARGIN;
        let (core, margin) = if whole {
            (width.max(height), 0)
        } else {
            (TILE, TILE_MARGIN)
        };
        for y0 in (0..height).step_by(core) {
            for x0 in (0..width).step_by(core) {
                let (cw, ch) = (core.min(width - x0), core.min(height - y0));
                let tw = (cw + 2 * margin).div_ceil(MULTIPLE) * MULTIPLE;
                let th = (ch + 2 * margin).div_ceil(MULTIPLE) * MULTIPLE;
                let (left, top) = (x0 as isize - margin as isize, y0 as isize - margin as isize);
                let mut tile = Vec::with_capacity(tw * th);
                for ty in 0..th {
                    let sy = reflect(top + ty as isize, height);
                    tile.extend((0..tw).map(|tx| image[sy * width + reflect(left + tx as isize, width)]));
                }
                let input = Tensor::from_vec(tile, (1, 1, th, tw), &Device::Cpu)?;
                let probs = candle_nn::ops::softmax(&self.forward(&input, Mode::Inference)?, 1)?;
                let planes = probs.squeeze(0)?.to_vec3::<f32>()?;
                for y in 0..ch {
                    for x in 0..cw {
                        let i = (y0 + y) * width + x0 + x;
                        background[i] = planes[0][margin + y][margin + x];
                        interior[i] = planes[1][margin + y][margin + x];
                    }
                }
            }
        }
        Ok((background, interior))
    }
}

/// Mirrors an index into `0..n` without repeating the edge pixel (n = 4: -2 -> 2, 4 -> 2, 5 -> 1).
pub fn reflect(i: isize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n as isize - 1);
    let m = i.rem_euclid(period);
    (if m < n as isize { m } else { period - m }) as usize
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

    use candle_nn::VarMap;

    use super::*;

    #[test]
    fn reflection_mirrors_at_both_edges() {
        let got: Vec<usize> = (-3..7).map(|i| reflect(i, 4)).collect();
        assert_eq!(got, [3, 2, 1, 0, 1, 2, 3, 2, 1, 0]);
    }

    #[test]
    fn both_modes_compute_the_same_convolutions() {
        let map = VarMap::new();
        let net = UNet::new(VarBuilder::from_varmap(&map, DType::F32, &Device::Cpu)).unwrap();
        let x = Tensor::rand(0f32, 1f32, (2, 1, 16, 24), &Device::Cpu).unwrap();
        let a = net.forward(&x, Mode::Inference).unwrap();
        let b = net.forward(&x, Mode::Training).unwrap();
        let diff = (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(diff < 1e-4, "the modes differ by {diff}");
    }

    #[test]
    fn any_size_gives_probabilities_of_that_size() {
        let map = VarMap::new();
        let net = UNet::new(VarBuilder::from_varmap(&map, DType::F32, &Device::Cpu)).unwrap();
        for (w, h) in [(17, 23), (40, 16), (700, 20)] {
            let image: Vec<f32> = (0..w * h).map(|i| (i % 7) as f32 / 7.0).collect();
            let (bg, interior) = net.predict(&image, w, h).unwrap();
            assert_eq!((bg.len(), interior.len()), (w * h, w * h));
            assert!(bg.iter().zip(&interior).all(|(a, b)| *a >= 0.0 && a + b <= 1.0 + 1e-5));
        }
    }
}
