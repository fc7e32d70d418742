//! The shipped annotated image and how it is split: rows `0..HELD_OUT_FROM_ROW` train, rows
//! `HELD_OUT_FROM_ROW..512` are held out for evaluation; plus the intensity normalisation the model and
//! the baseline share.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// The first held-out row: rows 384 to 511 (all 512 columns) are never seen in training.
pub const HELD_OUT_FROM_ROW: usize = 384;

/// A row-major grey image with `T` samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane<T> {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height` samples.
    pub data: Vec<T>,
}

impl<T: Copy> Plane<T> {
    /// Rows `from..to`, all columns.
    pub fn rows(&self, from: usize, to: usize) -> Self {
        Self {
            width: self.width,
            height: to - from,
            data: self.data[from * self.width..to * self.width].to_vec(),
        }
    }
}

/// The folder of the shipped data.
pub fn data_dir() -> PathBuf {
    crate::example_dir().join("data")
}

/// The image: `data/img2d.tif`.
pub fn image_path() -> PathBuf {
    data_dir().join("img2d.tif")
}

/// The instance mask: `data/mask2d.tif`.
pub fn mask_path() -> PathBuf {
    data_dir().join("mask2d.tif")
}

/// Reads channel 0 of a PNG, JPEG or TIFF file (8 or 16 bit) as 16-bit samples.
pub fn read_gray(path: &Path) -> anyhow::Result<Plane<u16>> {
    let image = image::ImageReader::open(path)
        .with_context(|| format!("cannot open {}", path.display()))?
        .with_guessed_format()?
        .decode()
        .with_context(|| format!("cannot decode {}", path.display()))?;
    let plane = image.to_luma16();
    Ok(Plane {
        width: plane.width() as usize,
        height: plane.height() as usize,
        data: plane.into_raw(),
    })
}

/// The shipped image and its instance labels.
pub fn read_annotated() -> anyhow::Result<(Plane<u16>, Plane<u32>)> {
    let image = read_gray(&image_path())?;
    // The mask is 16-bit; `to_luma16` would rescale an 8-bit one, so decode it as is.
    let mask = image::ImageReader::open(mask_path())?.with_guessed_format()?.decode()?;
    let mask = match mask {
        image::DynamicImage::ImageLuma16(m) => m,
        other => anyhow::bail!(
            "{} must be a 16-bit label image, got {:?}",
            mask_path().display(),
            other.color()
        ),
    };
    let labels = Plane {
        width: mask.width() as usize,
        height: mask.height() as usize,
        data: mask.into_raw().into_iter().map(u32::from).collect(),
    };
    anyhow::ensure!(
        (image.width, image.height) == (labels.width, labels.height),
        "the image and the mask differ in size"
    );
    Ok((image, labels))
}

/// Scales intensities so the 1st percentile maps to 0 and the 99.8th to 1 (values beyond are kept),
/// which makes 8-bit, 16-bit, dim and bright images look alike to the model.
pub fn normalize(samples: &[u16]) -> Vec<f32> {
    let mut histogram = vec![0u32; 65_536];
    for &v in samples {
        histogram[usize::from(v)] += 1;
    }
    let percentile = |q: f64| {
        let target = (q * samples.len() as f64).ceil().max(1.0) as u64;
        let mut seen = 0u64;
        for (value, count) in histogram.iter().enumerate() {
            seen += u64::from(*count);
            if seen >= target {
                return value as f32;
            }
        }
        65_535.0
    };
    let lo = percentile(0.01);
    let hi = percentile(0.998).max(lo + 1.0);
    samples.iter().map(|v| (f32::from(*v) - lo) / (hi - lo)).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

    use super::*;

    #[test]
    fn the_shipped_data_loads() {
        let (image, labels) = read_annotated().unwrap();
        assert_eq!((image.width, image.height), (512, 512));
        let held_out = labels.rows(HELD_OUT_FROM_ROW, 512);
        assert_eq!(held_out.data.len(), 512 * 128);
        assert!(held_out.data.iter().any(|l| *l != 0));
    }

    #[test]
    fn normalisation_ignores_the_bit_depth() {
        let eight: Vec<u16> = (0..1000).map(|i| (i % 200) as u16).collect();
        let sixteen: Vec<u16> = eight.iter().map(|v| v * 256).collect();
        let (a, b) = (normalize(&eight), normalize(&sixteen));
        assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-2));
    }
}
