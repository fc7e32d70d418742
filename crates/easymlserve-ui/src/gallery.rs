//! The `Gallery` output's value: several images with captions, which both GUIs show as a grid of
//! thumbnails that open a larger view on click (issue 18).

use serde::{Deserialize, Serialize};

use super::UiError;
use super::image::ImageOutput;

/// One picture of a gallery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GalleryItem {
    /// The image (PNG).
    pub image: ImageOutput,
    /// The text under it.
    #[serde(default)]
    pub caption: String,
}

/// The value of a `Gallery` output: pictures in order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Gallery {
    /// The pictures.
    pub items: Vec<GalleryItem>,
}

impl Gallery {
    /// An empty gallery.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a picture, builder style.
    #[must_use]
    pub fn item(mut self, image: ImageOutput, caption: impl Into<String>) -> Self {
        self.items.push(GalleryItem {
            image,
            caption: caption.into(),
        });
        self
    }

    /// Adds a picture given as PNG bytes; its size is read from the PNG header, so bytes that are
    /// not a PNG are refused.
    pub fn png(self, png: Vec<u8>, caption: impl Into<String>) -> Result<Self, UiError> {
        let image = ImageOutput::from_png(png)?;
        Ok(self.item(image, caption))
    }
}

impl ImageOutput {
    /// An image output from PNG bytes, with the size read from its header.
    pub fn from_png(png: Vec<u8>) -> Result<Self, UiError> {
        let reader = image::ImageReader::with_format(std::io::Cursor::new(&png), image::ImageFormat::Png);
        let (width, height) = reader
            .into_dimensions()
            .map_err(|e| UiError::general(format!("not a PNG image: {e}")))?;
        Ok(Self {
            width,
            height,
            png,
            overlay_png: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_keep_their_order_and_captions_and_png_sizes_are_read() {
        let grey = ImageOutput::from_gray8(3, 2, vec![0; 6]);
        let gallery = Gallery::new()
            .item(grey.clone(), "first")
            .png(grey.png.clone(), "second")
            .unwrap();
        assert_eq!(gallery.items.len(), 2);
        assert_eq!(gallery.items[1].caption, "second");
        assert_eq!((gallery.items[1].image.width, gallery.items[1].image.height), (3, 2));
        let err = Gallery::new().png(b"not a png".to_vec(), "x").unwrap_err();
        assert!(err.message.contains("not a PNG"), "{}", err.message);
        let wire = serde_json::to_value(&gallery).unwrap();
        assert_eq!(wire["items"][0]["caption"], "first");
        let back: Gallery = serde_json::from_value(wire).unwrap();
        assert_eq!(back, gallery);
    }
}
