//! The `AnnotatedImage` output's value: an image with detected objects drawn over it, each a box
//! and/or a mask with its label and score. Both GUIs colour a label by the shared palette rule
//! (`ColourMap`, in order of first appearance) and list the labels in a legend (issue 18).

use std::io::Cursor;

use serde::{Deserialize, Serialize};

use super::bytes::b64;
use super::image::ImageOutput;
use super::palette::ColourMap;

/// A rectangle in image pixels, from the top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundingBox {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// One detected object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    /// What it is; also picks its colour.
    pub label: String,
    /// Where it is, when known as a box.
    #[serde(default, rename = "box", skip_serializing_if = "Option::is_none")]
    pub bbox: Option<BoundingBox>,
    /// Its pixels: a PNG of the image's size whose opaque pixels are the object.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "b64::option")]
    pub mask_png: Option<Vec<u8>>,
    /// The model's confidence, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
}

impl Annotation {
    /// An object in a box.
    pub fn boxed(label: impl Into<String>, x: f64, y: f64, width: f64, height: f64) -> Self {
        Self {
            label: label.into(),
            bbox: Some(BoundingBox { x, y, width, height }),
            mask_png: None,
            score: None,
        }
    }

    /// An object given by its pixels: `inside` has `width * height` entries, row-major.
    pub fn masked(label: impl Into<String>, width: u32, height: u32, inside: &[bool]) -> Self {
        Self {
            label: label.into(),
            bbox: None,
            mask_png: Some(mask_png(width, height, inside)),
            score: None,
        }
    }

    /// Sets the score.
    #[must_use]
    pub fn score(mut self, score: f64) -> Self {
        self.score = Some(score);
        self
    }

    /// The text drawn at the box: the label, and the score as a percentage when there is one.
    pub fn caption(&self) -> String {
        match self.score {
            Some(s) if s.is_finite() => format!("{} {:.0}%", self.label, s * 100.0),
            _ => self.label.clone(),
        }
    }
}

/// The value of an `AnnotatedImage` output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnotatedImage {
    /// The picture under the annotations.
    pub image: ImageOutput,
    /// The objects, in the order they are drawn.
    #[serde(default)]
    pub annotations: Vec<Annotation>,
}

impl AnnotatedImage {
    /// An image with no annotations yet.
    pub fn new(image: ImageOutput) -> Self {
        Self {
            image,
            annotations: Vec::new(),
        }
    }

    /// Adds an object, builder style.
    #[must_use]
    pub fn annotation(mut self, annotation: Annotation) -> Self {
        self.annotations.push(annotation);
        self
    }

    /// The legend: each label once, in order of first appearance, with its palette colour
    /// (`#RRGGBB`), the same rule the web page applies.
    pub fn legend(&self) -> Vec<(String, String)> {
        let mut colours = ColourMap::new();
        let mut out: Vec<(String, String)> = Vec::new();
        for a in &self.annotations {
            if !out.iter().any(|(l, _)| *l == a.label) {
                out.push((a.label.clone(), colours.colour_of(&a.label)));
            }
        }
        out
    }
}

/// A white RGBA PNG, opaque where `inside`, transparent elsewhere (missing entries are outside).
fn mask_png(width: u32, height: u32, inside: &[bool]) -> Vec<u8> {
    let n = width as usize * height as usize;
    let mut rgba = vec![0u8; 4 * n];
    for (pixel, _) in rgba.chunks_exact_mut(4).zip(inside).filter(|(_, i)| **i) {
        pixel.copy_from_slice(&[255, 255, 255, 255]);
    }
    let mut out = Cursor::new(Vec::new());
    if let Some(image) = image::RgbaImage::from_raw(width, height, rgba) {
        // Encoding into memory fails only on impossible sizes, which `from_raw` ruled out.
        let _ = image::DynamicImage::ImageRgba8(image).write_to(&mut out, image::ImageFormat::Png);
    }
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::palette::PALETTE;

    #[test]
    fn boxes_masks_captions_and_a_legend_in_palette_order() {
        let base = ImageOutput::from_gray8(4, 2, vec![9; 8]);
        let annotated = AnnotatedImage::new(base)
            .annotation(Annotation::boxed("cat", 1.0, 0.0, 2.0, 2.0).score(0.914))
            .annotation(Annotation::masked("dog", 4, 2, &[true, false, false, false, true]))
            .annotation(Annotation::boxed("cat", 0.0, 0.0, 1.0, 1.0));
        assert_eq!(annotated.annotations[0].caption(), "cat 91%");
        assert_eq!(annotated.annotations[1].caption(), "dog");
        assert_eq!(
            annotated.legend(),
            vec![
                ("cat".to_owned(), PALETTE[0].to_owned()),
                ("dog".to_owned(), PALETTE[1].to_owned())
            ]
        );
        let mask = image::load_from_memory(annotated.annotations[1].mask_png.as_ref().unwrap())
            .unwrap()
            .into_rgba8();
        assert_eq!((mask.width(), mask.height()), (4, 2));
        assert_eq!(mask.get_pixel(0, 0).0[3], 255);
        assert_eq!(mask.get_pixel(1, 0).0[3], 0);
        assert_eq!(mask.get_pixel(0, 1).0[3], 255);
        let wire = serde_json::to_value(&annotated).unwrap();
        assert_eq!(
            wire["annotations"][0]["box"],
            serde_json::json!({"x": 1.0, "y": 0.0, "width": 2.0, "height": 2.0})
        );
        assert!(wire["annotations"][1]["mask_png"].is_string());
        let back: AnnotatedImage = serde_json::from_value(wire).unwrap();
        assert_eq!(back, annotated);
    }
}
