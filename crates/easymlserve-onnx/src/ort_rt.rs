//! ONNX Runtime, for operators tract lacks (scikit-learn's `Scaler`, `TreeEnsembleRegressor`,
//! `SVMRegressor`). The library is loaded at run time (`load-dynamic`): nothing is downloaded at build
//! time, and a server without it still runs tract models. One session per engine worker, each on one
//! thread, so concurrent requests run side by side instead of queueing on one session's lock.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use easymlserve_server::oip::{Tensor, TensorData};
use ort::session::Session;
use ort::value::DynValue;

use crate::{OnnxError, Runtime};

/// The library the process loaded, once: ONNX Runtime can be initialised only once per process.
static LOADED: OnceLock<Result<ort::environment::Environment, String>> = OnceLock::new();

/// Sessions of one model, used round-robin.
pub(crate) struct OrtRuntime {
    sessions: Vec<Mutex<Session>>,
    next: AtomicUsize,
}

impl OrtRuntime {
    /// Loads the library at `library` (once per process) and opens `sessions` sessions of the model.
    pub(crate) fn load(library: &Path, model: &Path, sessions: usize) -> Result<Self, OnnxError> {
        let environment = LOADED
            .get_or_init(|| {
                ort::init_from(library)
                    .map_err(|e| format!("cannot load {}: {e}", library.display()))?
                    .with_name("easymlserve")
                    .build()
                    .map_err(|e| format!("cannot start ONNX Runtime from {}: {e}", library.display()))
            })
            .as_ref()
            .map_err(|e| OnnxError::NoOnnxRuntime(e.clone()))?;
        let open = || -> Result<Session, ort::Error> {
            Session::builder(environment)?
                .with_intra_threads(1)?
                .with_inter_threads(1)?
                .commit_from_file(model)
        };
        let sessions = (0..sessions.max(1))
            .map(|_| open().map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| OnnxError::Unsupported(format!("ONNX Runtime cannot load the model: {e}")))?;
        Ok(Self {
            sessions,
            next: AtomicUsize::new(0),
        })
    }

    /// A free session, else the next one in turn (waiting for it).
    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        for session in &self.sessions {
            if let Ok(guard) = session.try_lock() {
                return guard;
            }
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed) % self.sessions.len();
        self.sessions[turn]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Runtime for OrtRuntime {
    fn name(&self) -> &'static str {
        "onnxruntime"
    }

    fn run(&self, inputs: Vec<Tensor>) -> Result<Vec<Tensor>, OnnxError> {
        let values = inputs.into_iter().map(to_ort).collect::<Result<Vec<DynValue>, _>>()?;
        let mut session = self.session();
        let names: Vec<String> = session.inputs().iter().map(|i| i.name().to_owned()).collect();
        let feed: Vec<(String, DynValue)> = names.into_iter().zip(values).collect();
        let outputs = session.run(feed).map_err(|e| OnnxError::Run(e.to_string()))?;
        outputs.into_iter().map(|(_, value)| from_ort(&value)).collect()
    }
}

fn to_ort(tensor: Tensor) -> Result<DynValue, OnnxError> {
    use ort::value::Tensor as T;
    let shape = tensor.shape;
    let value = match tensor.data {
        TensorData::Bool(v) => T::from_array((shape, v)).map(T::into_dyn),
        TensorData::Uint8(v) => T::from_array((shape, v)).map(T::into_dyn),
        TensorData::Uint16(v) => T::from_array((shape, v)).map(T::into_dyn),
        TensorData::Uint32(v) => T::from_array((shape, v)).map(T::into_dyn),
        TensorData::Uint64(v) => T::from_array((shape, v)).map(T::into_dyn),
        TensorData::Int8(v) => T::from_array((shape, v)).map(T::into_dyn),
        TensorData::Int16(v) => T::from_array((shape, v)).map(T::into_dyn),
        TensorData::Int32(v) => T::from_array((shape, v)).map(T::into_dyn),
        TensorData::Int64(v) => T::from_array((shape, v)).map(T::into_dyn),
        TensorData::Fp16(v) => T::from_array((shape, v)).map(T::into_dyn),
        TensorData::Fp32(v) => T::from_array((shape, v)).map(T::into_dyn),
        TensorData::Fp64(v) => T::from_array((shape, v)).map(T::into_dyn),
        TensorData::Bytes(v) => {
            let strings: Vec<String> = v
                .into_iter()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .collect();
            T::from_string_array((shape, strings.as_slice())).map(T::into_dyn)
        }
    };
    value.map_err(|e| OnnxError::Run(format!("cannot build the input tensor: {e}")))
}

fn from_ort(value: &DynValue) -> Result<Tensor, OnnxError> {
    use ort::value::TensorElementType as E;
    let err = |e: ort::Error| OnnxError::Run(format!("cannot read an output: {e}"));
    let Some(ty) = value.dtype().tensor_type() else {
        return Err(OnnxError::Run(
            "an output is not a tensor (export classifiers with `zipmap: False`)".to_owned(),
        ));
    };
    macro_rules! take {
        ($variant:ident, $t:ty) => {{
            let (shape, data) = value.try_extract_tensor::<$t>().map_err(err)?;
            (shape.to_vec(), TensorData::$variant(data.to_vec()))
        }};
    }
    let (shape, data) = match ty {
        E::Bool => take!(Bool, bool),
        E::Uint8 => take!(Uint8, u8),
        E::Uint16 => take!(Uint16, u16),
        E::Uint32 => take!(Uint32, u32),
        E::Uint64 => take!(Uint64, u64),
        E::Int8 => take!(Int8, i8),
        E::Int16 => take!(Int16, i16),
        E::Int32 => take!(Int32, i32),
        E::Int64 => take!(Int64, i64),
        E::Float16 => take!(Fp16, half::f16),
        E::Float32 => take!(Fp32, f32),
        E::Float64 => take!(Fp64, f64),
        E::String => {
            let (shape, strings) = value.try_extract_strings().map_err(err)?;
            (
                shape.to_vec(),
                TensorData::Bytes(strings.into_iter().map(String::into_bytes).collect()),
            )
        }
        other => {
            return Err(OnnxError::Run(format!(
                "an output has the type {other:?}, which the protocol lacks"
            )));
        }
    };
    let shape = shape
        .into_iter()
        .map(|d| usize::try_from(d).map_err(|_| OnnxError::Run(format!("an output has the dimension {d}"))))
        .collect::<Result<Vec<_>, _>>()?;
    Tensor::new(shape, data).map_err(|e| OnnxError::Run(e.to_string()))
}
