//! The wire format of the original EasyMLServe image services: `{"dtype", "shape", "image"}` where `image`
//! is base64 of the raw C-order array bytes. Decoding checks the shape against the size limits before
//! anything image-sized is allocated, and every refusal names the field at fault.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use easymlserve::prelude::*;

/// Sample types a request image may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InputDtype {
    /// 8-bit unsigned samples.
    Uint8,
    /// 16-bit unsigned samples, little-endian.
    Uint16,
}

impl InputDtype {
    /// Bytes per sample.
    pub fn size(self) -> usize {
        match self {
            Self::Uint8 => 1,
            Self::Uint16 => 2,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Uint8 => "uint8",
            Self::Uint16 => "uint16",
        }
    }
}

/// Sample types of the returned label image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LabelDtype {
    /// 16-bit unsigned labels, little-endian (used while there are at most 65,535 cells).
    Uint16,
    /// 32-bit signed labels, little-endian (used beyond 65,535 cells).
    Int32,
}

/// An image to segment. The generated GUI asks for it as one image upload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("x-easymlserve-widget" = {"widget": "image", "label": "Microscopy image"}))]
pub struct ImageRequest {
    /// Sample type: `uint8` or `uint16` (little-endian).
    pub dtype: InputDtype,
    /// `[height, width]` for a grey image or `[height, width, channels]`; only channel 0 is used.
    #[schemars(length(min = 2, max = 3))]
    pub shape: Vec<u64>,
    /// Base64 (standard alphabet, padded) of the raw samples in C order (row by row, channels innermost).
    pub image: String,
}

/// The instance labels: 0 is background, 1..n are the cells, in the same envelope as the request. The
/// generated GUI draws them in colour over the request's image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(extend("x-easymlserve-widget" = {"widget": "label_overlay", "label": "Cells found"}))]
pub struct LabelResponse {
    /// `uint16`, or `int32` when there are more than 65,535 cells.
    pub dtype: LabelDtype,
    /// `[height, width]` of the input image.
    pub shape: Vec<u64>,
    /// Base64 of the raw labels in C order, little-endian.
    pub image: String,
}

/// Size limits of a request image, checked on its `shape` before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Smallest height and width accepted.
    pub min_side: u64,
    /// Largest height or width accepted.
    pub max_side: u64,
    /// Largest height x width accepted.
    pub max_pixels: u64,
    /// Largest number of channels accepted.
    pub max_channels: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            min_side: 16,
            max_side: 8192,
            max_pixels: 4096 * 4096,
            max_channels: 4,
        }
    }
}

/// A grey image as the model reads it: channel 0 of the request, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct GrayImage {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height` samples.
    pub pixels: Vec<u16>,
}

impl ImageRequest {
    /// An 8-bit grey request.
    pub fn from_gray8(width: usize, height: usize, pixels: &[u8]) -> Self {
        Self {
            dtype: InputDtype::Uint8,
            shape: vec![height as u64, width as u64],
            image: STANDARD.encode(pixels),
        }
    }

    /// A 16-bit grey request.
    pub fn from_gray16(width: usize, height: usize, pixels: &[u16]) -> Self {
        let bytes: Vec<u8> = pixels.iter().flat_map(|v| v.to_le_bytes()).collect();
        Self {
            dtype: InputDtype::Uint16,
            shape: vec![height as u64, width as u64],
            image: STANDARD.encode(bytes),
        }
    }

    /// Checks the shape against `limits`, then decodes channel 0.
    pub fn decode(&self, limits: &Limits) -> Result<GrayImage, ServiceError> {
        let (height, width, channels) = checked_shape(&self.shape, limits)?;
        let expected = (height * width)
            .checked_mul(channels * self.dtype.size() as u64)
            .ok_or_else(|| ServiceError::invalid_field("shape", format!("{:?} is too large", self.shape)))?;
        let bytes = STANDARD
            .decode(self.image.as_bytes())
            .map_err(|e| ServiceError::invalid_field("image", format!("is not valid base64: {e}")))?;
        if bytes.len() as u64 != expected {
            return Err(ServiceError::invalid_field(
                "shape",
                format!(
                    "{:?} of {} needs {expected} bytes, but `image` holds {} bytes",
                    self.shape,
                    self.dtype.name(),
                    bytes.len()
                ),
            ));
        }
        let step = channels as usize * self.dtype.size();
        let pixels = match self.dtype {
            InputDtype::Uint8 => bytes.iter().step_by(step).map(|v| u16::from(*v)).collect(),
            InputDtype::Uint16 => bytes
                .chunks_exact(2)
                .step_by(channels as usize)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect(),
        };
        Ok(GrayImage {
            width: width as usize,
            height: height as usize,
            pixels,
        })
    }
}

/// `(height, width, channels)` of a shape that passes every limit; nothing is allocated before this.
fn checked_shape(shape: &[u64], limits: &Limits) -> Result<(u64, u64, u64), ServiceError> {
    let bad = |message: String| Err(ServiceError::invalid_field("shape", message));
    let (height, width, channels) = match *shape {
        [h, w] => (h, w, 1),
        [h, w, c] => (h, w, c),
        _ => {
            return bad(format!(
                "must be [height, width] or [height, width, channels], got {shape:?}"
            ));
        }
    };
    if channels == 0 || channels > limits.max_channels.min(1 << 16) {
        return bad(format!(
            "must have 1 to {} channels, got {channels}",
            limits.max_channels
        ));
    }
    if height < limits.min_side || width < limits.min_side {
        return bad(format!(
            "the image is too small: {height} x {width} pixels, the least is {0} x {0}",
            limits.min_side
        ));
    }
    if height > limits.max_side || width > limits.max_side {
        return bad(format!(
            "the image is too large: {height} x {width} pixels, the most is {0} on a side",
            limits.max_side
        ));
    }
    match height.checked_mul(width) {
        Some(pixels) if pixels <= limits.max_pixels => Ok((height, width, channels)),
        _ => bad(format!(
            "the image is too large: {height} x {width} pixels, the most is {} pixels",
            limits.max_pixels
        )),
    }
}

impl LabelResponse {
    /// Encodes labels (`height * width`, row-major) as uint16 when they fit, else int32.
    pub fn encode(width: usize, height: usize, labels: &[u32]) -> Self {
        let max = labels.iter().copied().max().unwrap_or(0);
        let (dtype, bytes): (LabelDtype, Vec<u8>) = if max <= u32::from(u16::MAX) {
            let bytes = labels.iter().flat_map(|l| (*l as u16).to_le_bytes()).collect();
            (LabelDtype::Uint16, bytes)
        } else {
            let bytes = labels
                .iter()
                .flat_map(|l| i32::try_from(*l).unwrap_or(i32::MAX).to_le_bytes())
                .collect();
            (LabelDtype::Int32, bytes)
        };
        Self {
            dtype,
            shape: vec![height as u64, width as u64],
            image: STANDARD.encode(bytes),
        }
    }

    /// Decodes the labels: `(width, height, labels)`; the message says what is wrong.
    pub fn decode(&self) -> Result<(usize, usize, Vec<u32>), String> {
        let [height, width] = self.shape[..] else {
            return Err(format!("`shape` must be [height, width], got {:?}", self.shape));
        };
        let bytes = STANDARD
            .decode(self.image.as_bytes())
            .map_err(|e| format!("`image` is not valid base64: {e}"))?;
        let labels: Vec<u32> = match self.dtype {
            LabelDtype::Uint16 => bytes
                .chunks_exact(2)
                .map(|c| u32::from(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
            LabelDtype::Int32 => bytes
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]).max(0) as u32)
                .collect(),
        };
        if labels.len() as u64 != height.saturating_mul(width) {
            return Err(format!(
                "`shape` {:?} disagrees with the {} labels in `image`",
                self.shape,
                labels.len()
            ));
        }
        Ok((width as usize, height as usize, labels))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

    use super::*;

    fn field_and_message(err: ServiceError) -> (String, String) {
        match err {
            ServiceError::InvalidInput { field, message } => (field.unwrap_or_default(), message),
            other => panic!("not an input error: {other}"),
        }
    }

    #[test]
    fn uint8_and_uint16_round_trip() {
        let pixels8: Vec<u8> = (0..16 * 20).map(|i| (i % 251) as u8).collect();
        let decoded = ImageRequest::from_gray8(20, 16, &pixels8)
            .decode(&Limits::default())
            .unwrap();
        assert_eq!((decoded.width, decoded.height), (20, 16));
        assert_eq!(
            decoded.pixels,
            pixels8.iter().map(|v| u16::from(*v)).collect::<Vec<_>>()
        );
        let pixels16: Vec<u16> = (0..16 * 20).map(|i| (i * 197) as u16).collect();
        let decoded = ImageRequest::from_gray16(20, 16, &pixels16)
            .decode(&Limits::default())
            .unwrap();
        assert_eq!(decoded.pixels, pixels16);
    }

    #[test]
    fn channel_zero_of_a_colour_image_is_used() {
        let mut bytes = Vec::new();
        for i in 0..16u16 * 16 {
            for c in 0..3u16 {
                bytes.extend((i * 10 + c).to_le_bytes());
            }
        }
        let request = ImageRequest {
            dtype: InputDtype::Uint16,
            shape: vec![16, 16, 3],
            image: STANDARD.encode(bytes),
        };
        let decoded = request.decode(&Limits::default()).unwrap();
        assert_eq!(decoded.pixels[..3], [0, 10, 20]);
    }

    #[test]
    fn labels_round_trip_as_uint16_and_int32() {
        let small: Vec<u32> = (0..6).collect();
        let response = LabelResponse::encode(3, 2, &small);
        assert_eq!(response.dtype, LabelDtype::Uint16);
        assert_eq!(response.shape, [2, 3]);
        assert_eq!(response.decode().unwrap(), (3, 2, small));
        let big = vec![0, 70_000, 1, 65_536];
        let response = LabelResponse::encode(2, 2, &big);
        assert_eq!(response.dtype, LabelDtype::Int32);
        assert_eq!(response.decode().unwrap(), (2, 2, big));
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["dtype"], "int32");
    }

    #[test]
    fn each_bad_request_names_its_field() {
        let limits = Limits::default();
        let good = ImageRequest::from_gray8(16, 16, &[7; 256]);
        let cases = [
            (
                ImageRequest {
                    image: "not base64!".to_owned(),
                    ..good.clone()
                },
                "image",
                "not valid base64",
            ),
            (
                ImageRequest {
                    shape: vec![16, 17],
                    ..good.clone()
                },
                "shape",
                "needs 272 bytes, but `image` holds 256 bytes",
            ),
            (
                ImageRequest {
                    shape: vec![8, 32],
                    ..good.clone()
                },
                "shape",
                "too small",
            ),
            (
                ImageRequest {
                    shape: vec![100_000, 100_000],
                    ..good.clone()
                },
                "shape",
                "too large",
            ),
            (
                ImageRequest {
                    shape: vec![u64::MAX, u64::MAX],
                    ..good.clone()
                },
                "shape",
                "too large",
            ),
            (
                ImageRequest {
                    shape: vec![16, 16, 0],
                    ..good.clone()
                },
                "shape",
                "channels",
            ),
            (
                ImageRequest {
                    dtype: InputDtype::Uint16,
                    ..good.clone()
                },
                "shape",
                "needs 512 bytes",
            ),
        ];
        for (request, field, needle) in cases {
            let (got_field, message) = field_and_message(request.decode(&limits).unwrap_err());
            assert_eq!(got_field, field, "{message}");
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
    }

    #[test]
    fn limits_are_configurable() {
        let limits = Limits {
            max_pixels: 20 * 20,
            ..Limits::default()
        };
        let request = ImageRequest::from_gray8(32, 16, &[0; 512]);
        let (_, message) = field_and_message(request.decode(&limits).unwrap_err());
        assert!(message.contains("the most is 400 pixels"), "{message}");
    }
}
