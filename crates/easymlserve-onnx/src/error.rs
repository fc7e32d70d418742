//! `OnnxError`: the one error type of the ONNX layer, from reading the file to running it. Load-time
//! errors become the server's `LoadError` (shown in `/health/ready` and the log); run-time ones a
//! request's 422 or 500.

/// What went wrong with an ONNX model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OnnxError {
    /// The file is missing or not an ONNX model.
    #[error("cannot read the ONNX model: {0}")]
    Unreadable(String),
    /// The model uses something neither runtime can serve (an operator, a non-tensor input).
    #[error("{0}")]
    Unsupported(String),
    /// ONNX Runtime was asked for but its library was not found or would not load.
    #[error("ONNX Runtime is not available: {0}")]
    NoOnnxRuntime(String),
    /// A request's tensor does not fit the model (wrong shape or type): a 422 naming the tensor.
    #[error("{message}")]
    BadInput {
        /// The input tensor's name.
        tensor: String,
        /// The message naming the tensor and the expected shape.
        message: String,
    },
    /// The runtime failed while running the model.
    #[error("the runtime failed: {0}")]
    Run(String),
}
