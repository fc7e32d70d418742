//! The segmentation service: loads the U-Net weights once, then answers `POST /process` with the instance
//! labels of the posted image, in the original EasyMLServe envelope. A job sees its progress tile by
//! tile and can be canceled between tiles.

use std::ops::ControlFlow;
use std::path::PathBuf;

use easymlserve::core::Capabilities;
use easymlserve::prelude::*;

use crate::data::normalize;
use crate::envelope::{GrayImage, ImageRequest, LabelResponse, Limits};
use crate::postprocess::{InstanceParams, instances_from_probabilities};
use crate::unet::{Tiling, UNet};

/// The share of the work the U-Net's tiles are reported as; the watershed that separates touching cells
/// takes the rest. Measured in a debug build (where the watershed, this crate's code, is unoptimised
/// while candle is): 86 % of 1.4 s for the shipped 512 x 512 image and of 8 s for 1024 x 1024 in four
/// tiles; in a release build the watershed's share is smaller still.
const PREDICTION_SHARE: f64 = 0.9;

/// Segments grey microscopy images of nuclei into cells.
pub struct CellSegmenter {
    weights: PathBuf,
    limits: Limits,
    params: InstanceParams,
    tiling: Tiling,
    model: Option<UNet>,
}

impl CellSegmenter {
    /// A service whose `load_model` reads the safetensors file `weights`.
    pub fn new(weights: impl Into<PathBuf>) -> Self {
        Self {
            weights: weights.into(),
            limits: Limits::default(),
            params: InstanceParams::default(),
            tiling: Tiling::default(),
            model: None,
        }
    }

    /// Replaces the image size limits.
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Predicts large images in tiles of `tiling` (the default: 512-pixel tiles with 48 pixels of
    /// context); smaller tiles need less memory and report progress more often.
    #[must_use]
    pub fn with_tiling(mut self, tiling: Tiling) -> Self {
        self.tiling = tiling;
        self
    }

    /// Loads the model now (the server calls `load_model` itself; this is for commands and tests).
    pub fn loaded(mut self) -> Result<Self, ServiceError> {
        self.load_model()?;
        Ok(self)
    }

    /// Labels the cells of an image: `(labels, count)`, labels row-major, 0 for background.
    pub fn segment(&self, image: &GrayImage) -> Result<(Vec<u32>, u32), ServiceError> {
        self.segment_in(image, &Context::detached())
    }

    /// [`CellSegmenter::segment`] for a request: reports the tile the U-Net is on, then the watershed,
    /// through `ctx`, and stops with `Cancelled` between tiles once the request is canceled.
    pub fn segment_in(&self, image: &GrayImage, ctx: &Context) -> Result<(Vec<u32>, u32), ServiceError> {
        let model = self
            .model
            .as_ref()
            .ok_or_else(|| ServiceError::failed("the model is not loaded"))?;
        let (width, height) = (image.width, image.height);
        ctx.check_cancelled()?;
        let tiles = self.tiling.count(width, height);
        ctx.progress(0.0, format!("tile 1 of {tiles}"));
        let after_tile = |done: usize, tiles: usize| {
            if done < tiles {
                let fraction = PREDICTION_SHARE * done as f64 / tiles as f64;
                ctx.progress(fraction, format!("tile {} of {tiles}", done + 1));
            } else {
                ctx.progress(PREDICTION_SHARE, "separating touching cells");
            }
            if ctx.is_cancelled() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        let probabilities = model
            .predict_tiled(&normalize(&image.pixels), width, height, self.tiling, after_tile)
            .map_err(ServiceError::failed)?;
        let (background, interior) = probabilities.ok_or(ServiceError::Cancelled)?;
        Ok(instances_from_probabilities(
            &background,
            &interior,
            width,
            height,
            &self.params,
        ))
    }
}

/// Normalises, predicts and post-processes one image with `model`.
pub fn segment_with(
    model: &UNet,
    pixels: &[u16],
    width: usize,
    height: usize,
    params: &InstanceParams,
) -> anyhow::Result<(Vec<u32>, u32)> {
    let (background, interior) = model.predict(&normalize(pixels), width, height)?;
    Ok(instances_from_probabilities(
        &background,
        &interior,
        width,
        height,
        params,
    ))
}

impl Service for CellSegmenter {
    type Request = ImageRequest;
    type Response = LabelResponse;

    fn info(&self) -> ServiceInfo {
        ServiceInfo::new("Cell segmentation")
            .version(env!("CARGO_PKG_VERSION"))
            .description(
                "Finds the cell nuclei in a fluorescence microscopy image with a U-Net and returns an instance \
                 label image: 0 is background, each cell has its own number.",
            )
    }

    fn load_model(&mut self) -> Result<(), ServiceError> {
        let model = UNet::load(&self.weights).map_err(|e| ServiceError::failed(format!("{e:#}")))?;
        // One small prediction starts candle's thread pool, so the first request is not the slow one.
        model
            .predict(&vec![0.0; 128 * 128], 128, 128)
            .map_err(|e| ServiceError::failed(format!("the model cannot predict: {e:#}")))?;
        self.model = Some(model);
        Ok(())
    }

    fn process(&self, request: ImageRequest) -> Result<LabelResponse, ServiceError> {
        self.process_with(request, &Context::detached())
    }

    fn process_with(&self, request: ImageRequest, ctx: &Context) -> Result<LabelResponse, ServiceError> {
        let image = request.decode(&self.limits)?;
        let (labels, _) = self.segment_in(&image, ctx)?;
        Ok(LabelResponse::encode(image.width, image.height, &labels))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            progress: true,
            cancellation: true,
            ..Capabilities::default()
        }
    }

    fn example_request(&self) -> Option<easymlserve::serde_json::Value> {
        // A 16 x 16 dark image with one bright round cell in the middle.
        let pixels: Vec<u8> = (0..256i32)
            .map(|i| {
                let (x, y) = (i % 16 - 8, i / 16 - 8);
                if x * x + y * y <= 20 { 200 } else { 10 }
            })
            .collect();
        easymlserve::serde_json::to_value(ImageRequest::from_gray8(16, 16, &pixels)).ok()
    }
}
