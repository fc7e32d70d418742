//! Images in and out of a UI: uploads (PNG, JPEG, TIFF; 8 or 16 bit; grey or colour) decoded into an
//! `ImageValue`, and results encoded as PNG with an optional coloured label overlay.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat};
use serde::{Deserialize, Serialize};

use super::UiError;
use super::bytes::b64;

/// Largest width or height of an uploaded image the UI decodes.
pub const MAX_IMAGE_SIDE: u32 = 16_384;

/// A decoded image: `channels` interleaved samples per pixel, each held as `u16` whatever the depth.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageValue {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA).
    pub channels: u8,
    /// 8 or 16.
    pub bit_depth: u8,
    /// Samples in row-major, channel-interleaved order.
    pub data: Vec<u16>,
}

impl ImageValue {
    /// Decodes PNG, JPEG or TIFF bytes; `field` names the input in errors.
    pub fn decode(bytes: &[u8], field: &str) -> Result<Self, UiError> {
        let format = image::guess_format(bytes)
            .ok()
            .filter(|f| matches!(f, ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Tiff))
            .ok_or_else(|| UiError::field(field, "the file is not a PNG, JPEG or TIFF image"))?;
        let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
        let mut limits = image::Limits::default();
        limits.max_image_width = Some(MAX_IMAGE_SIDE);
        limits.max_image_height = Some(MAX_IMAGE_SIDE);
        limits.max_alloc = Some(1 << 30);
        reader.limits(limits);
        let decoded = reader
            .decode()
            .map_err(|e| UiError::field(field, format!("the image cannot be decoded: {e}")))?;
        Ok(Self::from_dynamic(decoded))
    }

    fn from_dynamic(image: DynamicImage) -> Self {
        let (width, height) = (image.width(), image.height());
        let wide = |data: Vec<u8>| data.into_iter().map(u16::from).collect::<Vec<_>>();
        let (channels, bit_depth, data) = match image {
            DynamicImage::ImageLuma8(i) => (1, 8, wide(i.into_raw())),
            DynamicImage::ImageLumaA8(i) => (2, 8, wide(i.into_raw())),
            DynamicImage::ImageRgb8(i) => (3, 8, wide(i.into_raw())),
            DynamicImage::ImageRgba8(i) => (4, 8, wide(i.into_raw())),
            DynamicImage::ImageLuma16(i) => (1, 16, i.into_raw()),
            DynamicImage::ImageLumaA16(i) => (2, 16, i.into_raw()),
            DynamicImage::ImageRgb16(i) => (3, 16, i.into_raw()),
            DynamicImage::ImageRgba16(i) => (4, 16, i.into_raw()),
            other => (4, 16, other.into_rgba16().into_raw()),
        };
        Self {
            width,
            height,
            channels,
            bit_depth,
            data,
        }
    }

    /// The samples of one channel (0 is grey, or red), row-major.
    pub fn channel(&self, index: u8) -> Vec<u16> {
        let (n, i) = (usize::from(self.channels), usize::from(index.min(self.channels - 1)));
        self.data.iter().skip(i).step_by(n).copied().collect()
    }

    /// An 8-bit grey or RGB rendering for display: 16-bit images are stretched between their lowest
    /// and highest value so faint microscopy images stay visible.
    pub fn to_display(&self) -> ImageOutput {
        let colour = self.channels >= 3;
        let used: Vec<u8> = if colour { vec![0, 1, 2] } else { vec![0] };
        let planes: Vec<Vec<u16>> = used.iter().map(|c| self.channel(*c)).collect();
        let (lo, hi) = if self.bit_depth > 8 {
            let all = planes.iter().flatten();
            let lo = all.clone().copied().min().unwrap_or(0);
            (lo, all.copied().max().unwrap_or(1).max(lo + 1))
        } else {
            (0, 255)
        };
        let scale = |v: u16| {
            ((f64::from(v.saturating_sub(lo)) / f64::from(hi - lo)) * 255.0)
                .round()
                .clamp(0.0, 255.0) as u8
        };
        let mut pixels = Vec::with_capacity(planes[0].len() * planes.len());
        for i in 0..planes[0].len() {
            pixels.extend(planes.iter().map(|p| scale(p[i])));
        }
        if colour {
            ImageOutput::from_rgb8(self.width, self.height, pixels)
        } else {
            ImageOutput::from_gray8(self.width, self.height, pixels)
        }
    }
}

/// An image result: PNG bytes, and optionally a transparent PNG overlay of coloured labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageOutput {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The image as PNG.
    #[serde(with = "b64")]
    pub png: Vec<u8>,
    /// A same-size RGBA PNG drawn on top (label 0 transparent), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "b64::option")]
    pub overlay_png: Option<Vec<u8>>,
}

fn encode_png(image: &DynamicImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    // Writing PNG into memory only fails on impossible sizes, which the constructors rule out.
    let _ = image.write_to(&mut out, ImageFormat::Png);
    out.into_inner()
}

impl ImageOutput {
    /// An 8-bit grey image; `pixels` has `width * height` samples (shorter input is padded with black).
    pub fn from_gray8(width: u32, height: u32, mut pixels: Vec<u8>) -> Self {
        pixels.resize(width as usize * height as usize, 0);
        let image = image::GrayImage::from_raw(width, height, pixels).map(DynamicImage::ImageLuma8);
        Self::from_dynamic(width, height, image)
    }

    /// An 8-bit RGB image; `pixels` has `3 * width * height` samples.
    pub fn from_rgb8(width: u32, height: u32, mut pixels: Vec<u8>) -> Self {
        pixels.resize(3 * width as usize * height as usize, 0);
        let image = image::RgbImage::from_raw(width, height, pixels).map(DynamicImage::ImageRgb8);
        Self::from_dynamic(width, height, image)
    }

    fn from_dynamic(width: u32, height: u32, image: Option<DynamicImage>) -> Self {
        let png = image.map(|i| encode_png(&i)).unwrap_or_default();
        Self {
            width,
            height,
            png,
            overlay_png: None,
        }
    }

    /// Adds a label overlay: each non-zero label gets its own colour, label 0 stays transparent.
    #[must_use]
    pub fn with_labels(mut self, labels: &[u32]) -> Self {
        let mut rgba = vec![0u8; 4 * self.width as usize * self.height as usize];
        for (pixel, label) in rgba.chunks_exact_mut(4).zip(labels) {
            if *label != 0 {
                let [r, g, b] = label_colour(*label);
                pixel.copy_from_slice(&[r, g, b, 255]);
            }
        }
        let overlay = image::RgbaImage::from_raw(self.width, self.height, rgba).map(DynamicImage::ImageRgba8);
        self.overlay_png = overlay.map(|o| encode_png(&o));
        self
    }
}

/// A distinct, saturated colour for a label (hues spread by the golden angle).
pub fn label_colour(label: u32) -> [u8; 3] {
    let hue = (f64::from(label) * 137.507_764) % 360.0;
    let (s, v) = (0.75, 0.95);
    let c = v * s;
    let x = c * (1.0 - ((hue / 60.0) % 2.0 - 1.0).abs());
    let (r, g, b) = match (hue / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    [r, g, b].map(|u| ((u + m) * 255.0).round() as u8)
}
