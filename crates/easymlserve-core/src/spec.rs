//! `ServiceSpec`: the machine-readable description of a served model, at `GET /api/spec`.
//!
//! Every kind of model has one, known once the model is loaded: a typed Rust service's comes from its
//! types, a Python worker's from the schemas it sends when it starts, an ONNX file's from its tensors.
//! Validation, the OpenAPI document and generated GUIs are all built from it at run time.

use serde::{Deserialize, Serialize};

use crate::{Service, ServiceInfo};

/// What a model can do beyond answering one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Answering several requests in one call is faster than one by one (worth turning batching on).
    #[serde(default)]
    pub batching: bool,
    /// The model stops early when its request is cancelled.
    #[serde(default)]
    pub cancellation: bool,
    /// The model reports progress while it runs.
    #[serde(default)]
    pub progress: bool,
}

/// One tensor of a model's signature, for the Open Inference Protocol and for generated GUIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorSpec {
    /// Tensor name.
    pub name: String,
    /// Element type in the protocol's spelling: `FP32`, `INT64`, `BOOL`, `BYTES`, ...
    pub datatype: String,
    /// Dimensions; -1 for a dimension of any size.
    pub shape: Vec<i64>,
    /// Class names along the last dimension, for a classifier's scores (shown as ranked labels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    /// How an image is laid out in this input, when it is image-shaped (an upload widget then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageLayout>,
}

impl TensorSpec {
    /// A tensor named `name` of `datatype` and `shape`, with no labels and no image layout.
    pub fn new(name: impl Into<String>, datatype: impl Into<String>, shape: Vec<i64>) -> Self {
        Self {
            name: name.into(),
            datatype: datatype.into(),
            shape,
            labels: None,
            image: None,
        }
    }
}

/// Where an image-shaped input keeps its channels, and how 8-bit pixels map to its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageLayout {
    /// Channels before the rows (`[N, C, H, W]`) or after the columns (`[N, H, W, C]`).
    pub channels_first: bool,
    /// 1 (grey) or 3 (RGB).
    pub channels: u8,
    /// Rows, when fixed; an image is resized to it.
    pub height: Option<u32>,
    /// Columns, when fixed.
    pub width: Option<u32>,
    /// Model value = pixel (0 to 255) x `scale` + `offset`.
    pub scale: f64,
    /// See `scale`.
    pub offset: f64,
}

/// The inputs and outputs of a tensor model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TensorSignature {
    /// Input tensors, in the model's order.
    pub inputs: Vec<TensorSpec>,
    /// Output tensors, in the model's order.
    pub outputs: Vec<TensorSpec>,
    /// What runs the model, as the inference protocol's metadata names it (`onnxruntime_onnx`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

/// Name, version, description, request and response JSON Schemas, and what the model can do.
///
/// GUIs build their forms from it; `ui` holds the UI components when a UI description is attached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceSpec {
    /// Who the service is.
    #[serde(flatten)]
    pub info: ServiceInfo,
    /// JSON Schema of the request body.
    pub request_schema: serde_json::Value,
    /// JSON Schema of the response body.
    pub response_schema: serde_json::Value,
    /// An example request body, when the service gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example_request: Option<serde_json::Value>,
    /// What the model can do.
    #[serde(default)]
    pub capabilities: Capabilities,
    /// The tensor signature, for models that have one (ONNX files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tensors: Option<TensorSignature>,
    /// The UI components, when a UI description is attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui: Option<serde_json::Value>,
}

impl ServiceSpec {
    /// A spec from its info and schemas, with no example, capabilities, tensors or UI.
    pub fn new(info: ServiceInfo, request_schema: serde_json::Value, response_schema: serde_json::Value) -> Self {
        Self {
            info,
            request_schema,
            response_schema,
            example_request: None,
            capabilities: Capabilities::default(),
            tensors: None,
            ui: None,
        }
    }

    /// The spec of `service`, with schemas generated from its types.
    pub fn of<S: Service>(service: &S) -> Self {
        Self {
            example_request: service.example_request(),
            capabilities: service.capabilities(),
            ..Self::new(
                service.info(),
                crate::schema_for::<S::Request>(),
                crate::schema_for::<S::Response>(),
            )
        }
    }
}
