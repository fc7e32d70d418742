//! Serve an ONNX file with no code: `easymlserve serve model.onnx`. The request and response schemas,
//! the OpenAPI document, the generated GUIs and the inference-protocol signature all come from the
//! model's tensors. tract (pure Rust, in the binary) runs it by default; ONNX Runtime, loaded at run
//! time from `ORT_DYLIB_PATH` or an installed `onnxruntime` Python package, runs the operators tract
//! lacks.

mod backend;
mod batch;
mod error;
mod locate;
mod model;
mod ort_rt;
mod spec;
mod tract_rt;

use std::str::FromStr;

pub use backend::{OnnxBackend, OnnxConfig, is_onnx_file};
pub use error::OnnxError;
pub use locate::{ENV_ORT_DYLIB_PATH, find_library};
pub use model::{Dimension, ModelFacts, TensorFact};

use easymlserve_server::oip::Tensor;

/// Which runtime runs the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RuntimeChoice {
    /// tract, and ONNX Runtime when tract cannot load the model and the library is present.
    #[default]
    Auto,
    /// tract only.
    Tract,
    /// ONNX Runtime only.
    Ort,
}

impl FromStr for RuntimeChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "auto" => Ok(Self::Auto),
            "tract" => Ok(Self::Tract),
            "ort" | "onnxruntime" => Ok(Self::Ort),
            other => Err(format!("unknown ONNX runtime `{other}`; use tract, ort or auto")),
        }
    }
}

/// Something that runs a loaded model: input tensors in the model's input order in, outputs in its
/// output order out. Shared by the engine's workers.
pub(crate) trait Runtime: Send + Sync {
    /// `tract` or `onnxruntime`, for the log and the metadata.
    fn name(&self) -> &'static str;
    /// Runs the model once.
    fn run(&self, inputs: Vec<Tensor>) -> Result<Vec<Tensor>, OnnxError>;
}
