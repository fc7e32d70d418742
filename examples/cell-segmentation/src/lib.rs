//! Cell (nucleus) instance segmentation, the paper's second use case: a small U-Net trained in Rust with
//! candle on one annotated image, a watershed that separates touching cells, a classical baseline to
//! beat, and a service and GUI that speak the original EasyMLServe image envelope.
//!
//! Run `cargo run --release -p cell-segmentation` and open http://127.0.0.1:8000/ui/; `train` and
//! `evaluate` rebuild and score the model, `export-onnx` writes it for `easymlserve serve` (see the
//! README).

pub mod baseline;
pub mod data;
pub mod envelope;
pub mod evaluate;
pub mod examples;
pub mod metrics;
pub mod onnx;
pub mod postprocess;
pub mod service;
pub mod train;
pub mod ui;
pub mod unet;

use std::path::PathBuf;

/// The example's folder (holding `data/` and `models/`).
pub fn example_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The committed weights: `models/unet.safetensors`.
pub fn default_weights() -> PathBuf {
    example_dir().join("models/unet.safetensors")
}
