//! The image envelope of the original EasyMLServe image services, `{"dtype", "shape", "image"}`
//! (base64 of the raw little-endian samples in C order), decoded for the generated GUI's image and
//! label-overlay outputs, with the size limits checked before anything image-sized is allocated.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use super::{ImageOutput, ImageValue, MAX_IMAGE_SIDE, UiError};

/// A decoded image envelope: samples widened to `u32` (labels) and to the 8/16-bit display form.
pub(crate) struct Decoded {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
    pub wide: Vec<u32>,
}

impl Decoded {
    pub(crate) fn to_display(&self) -> ImageOutput {
        let max = self.wide.iter().copied().max().unwrap_or(0);
        let deep = max > 255;
        let image = ImageValue {
            width: self.width,
            height: self.height,
            channels: self.channels,
            bit_depth: if deep { 16 } else { 8 },
            data: self.wide.iter().map(|v| (*v).min(u32::from(u16::MAX)) as u16).collect(),
        };
        image.to_display()
    }
}

pub(crate) fn decode(envelope: &Value, output: &str) -> Result<Decoded, UiError> {
    let bad = |why: &str| UiError::general(format!("`{output}`: the image envelope {why}"));
    let dtype = envelope
        .get("dtype")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("has no `dtype`"))?;
    let shape: Vec<u64> = envelope
        .get("shape")
        .and_then(Value::as_array)
        .map(|s| s.iter().filter_map(Value::as_u64).collect())
        .ok_or_else(|| bad("has no `shape`"))?;
    let (height, width, channels) = match shape[..] {
        [h, w] => (h, w, 1),
        [h, w, c] if (1..=4).contains(&c) => (h, w, c),
        _ => {
            return Err(bad(
                "needs a shape [height, width] or [height, width, channels of 1 to 4]",
            ));
        }
    };
    if height == 0 || width == 0 || height > u64::from(MAX_IMAGE_SIDE) || width > u64::from(MAX_IMAGE_SIDE) {
        return Err(bad(&format!(
            "has sides {height}x{width}; each must be 1 to {MAX_IMAGE_SIDE}"
        )));
    }
    let size = match dtype {
        "uint8" => 1,
        "uint16" => 2,
        "int32" | "uint32" => 4,
        other => {
            return Err(bad(&format!(
                "has dtype `{other}`; uint8, uint16, int32 and uint32 are shown"
            )));
        }
    };
    let text = envelope
        .get("image")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("has no `image`"))?;
    let bytes = STANDARD.decode(text).map_err(|e| bad(&format!("is not base64: {e}")))?;
    let count = (height * width * channels) as usize;
    if bytes.len() != count * size {
        return Err(bad(&format!(
            "has {} bytes; the shape needs {}",
            bytes.len(),
            count * size
        )));
    }
    let wide = bytes
        .chunks_exact(size)
        .map(|c| match (dtype, c) {
            ("uint8", [a]) => u32::from(*a),
            ("uint16", [a, b]) => u32::from(u16::from_le_bytes([*a, *b])),
            ("int32", [a, b, c, d]) => i32::from_le_bytes([*a, *b, *c, *d]).max(0) as u32,
            (_, [a, b, c, d]) => u32::from_le_bytes([*a, *b, *c, *d]),
            _ => 0,
        })
        .collect();
    Ok(Decoded {
        width: width as u32,
        height: height as u32,
        channels: channels as u8,
        wide,
    })
}
