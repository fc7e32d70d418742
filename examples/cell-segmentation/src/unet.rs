//! The model: a small U-Net in candle (CPU) with three poolings and 8 to 64 channels, predicting three
//! pixel classes (background, cell interior, cell boundary); and whole-image prediction, tiled so large
//! images need bounded memory (and a long prediction can report each tile and stop between tiles).

use std::ops::ControlFlow;
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

/// The U-Net: an encoder of three blocks with pooling, a middle block, and a decoder that at each scale
/// projects the coarser features to this scale's channels (1 x 1), upsamples them and adds the
/// encoder's features (additive skips cost half the arithmetic of concatenated ones, which keeps a
/// 512 x 512 image well under a second); a 1 x 1 convolution gives the class scores.
#[derive(Debug)]
pub struct UNet {
    down: Vec<Block>,
    middle: Block,
    project: Vec<Conv2d>,
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
        let one = Conv2dConfig::default();
        let project = vec![
            conv2d(c3, c2, 1, one, vb.pp("project2"))?,
            conv2d(c2, c1, 1, one, vb.pp("project1"))?,
            conv2d(c1, c0, 1, one, vb.pp("project0"))?,
        ];
        let up = vec![
            Block::new(vb.pp("up2"), c2, c2)?,
            Block::new(vb.pp("up1"), c1, c1)?,
            Block::new(vb.pp("up0"), c0, c0)?,
        ];
        let head = conv2d(c0, CLASSES, 1, one, vb.pp("head"))?;
        Ok(Self {
            down,
            middle,
            project,
            up,
            head,
        })
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
        for ((block, project), skip) in self.up.iter().zip(&self.project).zip(skips.iter().rev()) {
            let (_, _, h, w) = skip.dims4()?;
            let coarse = conv(project, &x, mode)?.upsample_nearest2d(h, w)?;
            x = block.forward(&(coarse + skip)?, mode)?;
        }
        conv(&self.head, &x, mode)
    }

    /// Class probabilities of a normalised image: `(background, interior)`, each `width * height`.
    ///
    /// Images up to `TILE + 2 * TILE_MARGIN` a side are predicted whole; larger ones in `TILE`-pixel
    /// squares, each with `TILE_MARGIN` pixels of context (mirrored at the image edge) cut off again, so
    /// memory stays bounded. (Predicting strips on both cores at once was slower: candle's convolutions
    /// already use them.)
    pub fn predict(&self, image: &[f32], width: usize, height: usize) -> anyhow::Result<(Vec<f32>, Vec<f32>)> {
        self.predict_tiled(
            image,
            width,
            height,
            Tiling::default(),
            |_, _| ControlFlow::Continue(()),
        )?
        .context("the prediction stopped")
    }

    /// [`UNet::predict`] with `tiling`, calling `after_tile(done, tiles)` after each tile; its
    /// `ControlFlow::Break` stops the prediction, which then gives `None`.
    pub fn predict_tiled(
        &self,
        image: &[f32],
        width: usize,
        height: usize,
        tiling: Tiling,
        mut after_tile: impl FnMut(usize, usize) -> ControlFlow<()>,
    ) -> anyhow::Result<Option<(Vec<f32>, Vec<f32>)>> {
        let tiles = tiling.tiles(width, height);
        let mut background = vec![0f32; width * height];
        let mut interior = vec![0f32; width * height];
        for (done, tile) in tiles.iter().enumerate() {
            let (bg, int) = self.predict_tile(image, width, height, tile)?;
            for y in 0..tile.height {
                let row = (tile.y0 + y) * width + tile.x0;
                background[row..row + tile.width].copy_from_slice(&bg[y * tile.width..(y + 1) * tile.width]);
                interior[row..row + tile.width].copy_from_slice(&int[y * tile.width..(y + 1) * tile.width]);
            }
            if after_tile(done + 1, tiles.len()).is_break() {
                return Ok(None);
            }
        }
        Ok(Some((background, interior)))
    }

    /// The probabilities of one tile's core region, row-major.
    fn predict_tile(
        &self,
        image: &[f32],
        width: usize,
        height: usize,
        tile: &Tile,
    ) -> anyhow::Result<(Vec<f32>, Vec<f32>)> {
        let tw = (tile.width + 2 * tile.margin_x).div_ceil(MULTIPLE) * MULTIPLE;
        let th = (tile.height + 2 * tile.margin_y).div_ceil(MULTIPLE) * MULTIPLE;
        let left = tile.x0 as isize - tile.margin_x as isize;
        let top = tile.y0 as isize - tile.margin_y as isize;
        let mut pixels = Vec::with_capacity(tw * th);
        for ty in 0..th {
            let sy = reflect(top + ty as isize, height);
            pixels.extend((0..tw).map(|tx| image[sy * width + reflect(left + tx as isize, width)]));
        }
        let input = Tensor::from_vec(pixels, (1, 1, th, tw), &Device::Cpu)?;
        let probs = candle_nn::ops::softmax(&self.forward(&input, Mode::Inference)?, 1)?;
        let planes = probs.squeeze(0)?.to_vec3::<f32>()?;
        let core = |plane: &Vec<Vec<f32>>| -> Vec<f32> {
            (0..tile.height)
                .flat_map(|y| {
                    plane[tile.margin_y + y][tile.margin_x..tile.margin_x + tile.width]
                        .iter()
                        .copied()
                })
                .collect()
        };
        Ok((core(&planes[0]), core(&planes[1])))
    }
}

/// How an image is cut for prediction: squares of `tile` pixels a side, each predicted with `margin`
/// pixels of context around it; an image no larger than `tile + 2 * margin` a side is predicted whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tiling {
    /// Side of a tile, in pixels.
    pub tile: usize,
    /// Context on each side of a tile, cut off after prediction.
    pub margin: usize,
}

impl Default for Tiling {
    /// `TILE` with `TILE_MARGIN`.
    fn default() -> Self {
        Self {
            tile: TILE,
            margin: TILE_MARGIN,
        }
    }
}

impl Tiling {
    /// The tiles of a `width` x `height` image, row by row.
    fn tiles(self, width: usize, height: usize) -> Vec<Tile> {
        let whole = self.tile + 2 * self.margin;
        if (width <= whole && height <= whole) || self.tile == 0 {
            return vec![Tile {
                x0: 0,
                y0: 0,
                width,
                height,
                margin_x: 0,
                margin_y: 0,
            }];
        }
        (0..height)
            .step_by(self.tile)
            .flat_map(|y0| (0..width).step_by(self.tile).map(move |x0| (x0, y0)))
            .map(|(x0, y0)| Tile {
                x0,
                y0,
                width: self.tile.min(width - x0),
                height: self.tile.min(height - y0),
                margin_x: self.margin,
                margin_y: self.margin,
            })
            .collect()
    }

    /// How many tiles a `width` x `height` image is predicted in.
    pub fn count(self, width: usize, height: usize) -> usize {
        self.tiles(width, height).len()
    }
}

/// A region of the image predicted at once, with its context margins.
#[derive(Debug, Clone, Copy)]
struct Tile {
    x0: usize,
    y0: usize,
    width: usize,
    height: usize,
    margin_x: usize,
    margin_y: usize,
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
    fn tiles_cover_the_image_once_and_a_break_stops_after_that_tile() {
        let tiling = Tiling { tile: 32, margin: 8 };
        assert_eq!(tiling.count(48, 48), 1, "small enough to predict whole");
        assert_eq!(tiling.count(96, 49), 6);
        let mut covered = vec![0u8; 96 * 49];
        for t in tiling.tiles(96, 49) {
            for y in t.y0..t.y0 + t.height {
                covered[y * 96 + t.x0..y * 96 + t.x0 + t.width]
                    .iter_mut()
                    .for_each(|c| *c += 1);
            }
        }
        assert!(covered.iter().all(|c| *c == 1));

        let map = VarMap::new();
        let net = UNet::new(VarBuilder::from_varmap(&map, DType::F32, &Device::Cpu)).unwrap();
        let image = vec![0.5f32; 96 * 49];
        let mut calls = Vec::new();
        let stopped = net
            .predict_tiled(&image, 96, 49, tiling, |done, n| {
                calls.push((done, n));
                if done == 2 {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
        assert!(stopped.is_none());
        assert_eq!(calls, [(1, 6), (2, 6)]);
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
