//! The default runtime: tract, pure Rust, in the binary (nothing to install). Operators it lacks are
//! found before optimising, so the error names them; dimensions the file leaves open become symbols,
//! so one optimised plan serves every batch size.

use std::path::Path;
use std::sync::Arc;

use easymlserve_server::oip::{DataType, Tensor, TensorData};
use tract_onnx::prelude::*;
use tract_onnx::tract_hir::infer::InferenceFact;

use crate::model::{Dimension, ModelFacts};
use crate::{OnnxError, Runtime};

type Plan = Arc<TypedRunnableModel>;

/// A model optimised and planned by tract.
pub(crate) struct TractRuntime {
    plan: Plan,
}

impl TractRuntime {
    /// Loads and optimises the model at `path`, whose facts are `facts`.
    pub(crate) fn load(path: &Path, facts: &ModelFacts) -> Result<Self, OnnxError> {
        let onnx = tract_onnx::onnx();
        let missing: Vec<String> = facts
            .operators
            .iter()
            .filter(|(_, op)| !onnx.op_register.0.contains_key(op))
            .map(|(domain, op)| {
                if domain.is_empty() {
                    op.clone()
                } else {
                    format!("{domain}.{op}")
                }
            })
            .collect();
        if !missing.is_empty() {
            return Err(OnnxError::Unsupported(format!(
                "tract does not implement the operator{} {}",
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            )));
        }
        let mut model = onnx
            .model_for_path(path)
            .map_err(|e| OnnxError::Unsupported(format!("tract cannot read the model: {e:#}")))?;
        for (ix, input) in facts.inputs.iter().enumerate() {
            let dims: TVec<TDim> = input
                .dims
                .iter()
                .enumerate()
                .map(|(d, dim)| match dim {
                    Dimension::Fixed(n) => TDim::Val(*n as i64),
                    Dimension::Symbolic(name) => model.symbols.sym(name).into(),
                    Dimension::Unknown => model.symbols.sym(&format!("{}_{d}", input.name)).into(),
                })
                .collect();
            let fact = InferenceFact::dt_shape(datum_type(input.datatype), dims);
            model
                .set_input_fact(ix, fact)
                .map_err(|e| OnnxError::Unsupported(format!("tract cannot type input `{}`: {e:#}", input.name)))?;
        }
        let plan = model
            .into_optimized()
            .and_then(|typed| typed.into_runnable())
            .map_err(|e| OnnxError::Unsupported(format!("tract cannot optimise the model: {e:#}")))?;
        Ok(Self { plan })
    }
}

impl Runtime for TractRuntime {
    fn name(&self) -> &'static str {
        "tract"
    }

    fn run(&self, inputs: Vec<Tensor>) -> Result<Vec<Tensor>, OnnxError> {
        let values: TVec<TValue> = inputs
            .into_iter()
            .map(to_tract)
            .collect::<Result<TVec<_>, _>>()?
            .into_iter()
            .map(TValue::from)
            .collect();
        let outputs = self.plan.run(values).map_err(|e| OnnxError::Run(format!("{e:#}")))?;
        outputs.iter().map(from_tract).collect()
    }
}

fn datum_type(datatype: DataType) -> DatumType {
    match datatype {
        DataType::Bool => DatumType::Bool,
        DataType::Uint8 => DatumType::U8,
        DataType::Uint16 => DatumType::U16,
        DataType::Uint32 => DatumType::U32,
        DataType::Uint64 => DatumType::U64,
        DataType::Int8 => DatumType::I8,
        DataType::Int16 => DatumType::I16,
        DataType::Int32 => DatumType::I32,
        DataType::Int64 => DatumType::I64,
        DataType::Fp16 => DatumType::F16,
        DataType::Fp32 => DatumType::F32,
        DataType::Fp64 => DatumType::F64,
        DataType::Bytes => DatumType::String,
    }
}

fn to_tract(tensor: Tensor) -> Result<tract_onnx::prelude::Tensor, OnnxError> {
    let shape = tensor.shape;
    let built = match tensor.data {
        TensorData::Bool(v) => tract_onnx::prelude::Tensor::from_shape(&shape, &v),
        TensorData::Uint8(v) => tract_onnx::prelude::Tensor::from_shape(&shape, &v),
        TensorData::Uint16(v) => tract_onnx::prelude::Tensor::from_shape(&shape, &v),
        TensorData::Uint32(v) => tract_onnx::prelude::Tensor::from_shape(&shape, &v),
        TensorData::Uint64(v) => tract_onnx::prelude::Tensor::from_shape(&shape, &v),
        TensorData::Int8(v) => tract_onnx::prelude::Tensor::from_shape(&shape, &v),
        TensorData::Int16(v) => tract_onnx::prelude::Tensor::from_shape(&shape, &v),
        TensorData::Int32(v) => tract_onnx::prelude::Tensor::from_shape(&shape, &v),
        TensorData::Int64(v) => tract_onnx::prelude::Tensor::from_shape(&shape, &v),
        TensorData::Fp16(v) => tract_onnx::prelude::Tensor::from_shape(&shape, &v),
        TensorData::Fp32(v) => tract_onnx::prelude::Tensor::from_shape(&shape, &v),
        TensorData::Fp64(v) => tract_onnx::prelude::Tensor::from_shape(&shape, &v),
        TensorData::Bytes(v) => {
            let strings: Vec<String> = v
                .into_iter()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .collect();
            tract_ndarray::ArrayD::from_shape_vec(tract_ndarray::IxDyn(&shape), strings)
                .map(tract_onnx::prelude::Tensor::from)
                .map_err(|e| anyhow::anyhow!("{e}"))
        }
    };
    built.map_err(|e| OnnxError::Run(format!("cannot build the input tensor: {e}")))
}

fn from_tract(value: &TValue) -> Result<Tensor, OnnxError> {
    fn collect<T: Datum + Clone>(value: &TValue) -> Result<Vec<T>, OnnxError> {
        value
            .to_plain_array_view::<T>()
            .map(|view| view.iter().cloned().collect())
            .map_err(|e| OnnxError::Run(format!("cannot read an output: {e}")))
    }
    let data = match value.datum_type() {
        DatumType::Bool => TensorData::Bool(collect(value)?),
        DatumType::U8 => TensorData::Uint8(collect(value)?),
        DatumType::U16 => TensorData::Uint16(collect(value)?),
        DatumType::U32 => TensorData::Uint32(collect(value)?),
        DatumType::U64 => TensorData::Uint64(collect(value)?),
        DatumType::I8 => TensorData::Int8(collect(value)?),
        DatumType::I16 => TensorData::Int16(collect(value)?),
        DatumType::I32 => TensorData::Int32(collect(value)?),
        DatumType::I64 => TensorData::Int64(collect(value)?),
        DatumType::F16 => TensorData::Fp16(collect(value)?),
        DatumType::F32 => TensorData::Fp32(collect(value)?),
        DatumType::F64 => TensorData::Fp64(collect(value)?),
        DatumType::String => TensorData::Bytes(collect::<String>(value)?.into_iter().map(String::into_bytes).collect()),
        other => {
            return Err(OnnxError::Run(format!(
                "an output has the type {other:?}, which the protocol lacks"
            )));
        }
    };
    Tensor::new(value.shape().to_vec(), data).map_err(|e| OnnxError::Run(e.to_string()))
}
