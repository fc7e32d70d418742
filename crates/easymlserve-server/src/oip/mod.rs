//! The Open Inference Protocol v2 (KServe's and Triton's REST API), served beside `/process` by every
//! server: a tensor model's own tensors, or a JSON service's fields mapped to tensors, so Triton's and
//! KServe's clients can call any easymlserve model. `docs/inference-protocol.md` has the mapping.

mod binary;
mod datatype;
mod error;
mod mapping;
mod routes;
mod tensor;
mod wire;

pub use binary::{BinaryError, decode as decode_binary, encode as encode_binary};
pub use datatype::DataType;
pub use error::OipError;
pub(crate) use mapping::Signature;
pub use routes::model_name;
pub(crate) use routes::{protected_routes, public_routes};
pub use tensor::{Tensor, TensorData, TensorError, element_count};
