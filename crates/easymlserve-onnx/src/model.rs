//! What an ONNX file says about itself, read once from its protobuf whatever runtime then runs it:
//! the graph's inputs and outputs (name, element type, dimensions fixed, symbolic or unknown), its
//! operators, and its metadata (description, class names, image scaling).

use std::collections::BTreeMap;
use std::path::Path;

use easymlserve_server::oip::DataType;
use tract_onnx::pb;
use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;
use tract_onnx::prelude::Framework;

use crate::OnnxError;

/// One dimension of a tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dimension {
    /// A fixed size.
    Fixed(usize),
    /// A named size that varies per request (`N`, `batch`).
    Symbolic(String),
    /// A size the file leaves open.
    Unknown,
}

impl Dimension {
    /// The size, or -1 for a varying one (the protocol's spelling).
    pub fn as_i64(&self) -> i64 {
        match self {
            Self::Fixed(n) => i64::try_from(*n).unwrap_or(-1),
            _ => -1,
        }
    }

    /// Whether requests choose this dimension.
    pub fn varies(&self) -> bool {
        !matches!(self, Self::Fixed(_))
    }
}

/// An input or output of the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorFact {
    /// Tensor name.
    pub name: String,
    /// Element type.
    pub datatype: DataType,
    /// Dimensions, outermost first.
    pub dims: Vec<Dimension>,
}

impl TensorFact {
    /// `[N, 10]`, `[?, 3]`, `[1, 1, 8, 8]`.
    pub fn shape_text(&self) -> String {
        let dims: Vec<String> = self
            .dims
            .iter()
            .map(|d| match d {
                Dimension::Fixed(n) => n.to_string(),
                Dimension::Symbolic(s) => s.clone(),
                Dimension::Unknown => "?".to_owned(),
            })
            .collect();
        format!("[{}]", dims.join(", "))
    }

    /// The shape with -1 for varying dimensions.
    pub fn shape(&self) -> Vec<i64> {
        self.dims.iter().map(Dimension::as_i64).collect()
    }
}

/// Everything the file says about itself.
#[derive(Debug, Clone)]
pub struct ModelFacts {
    /// Graph inputs that are not weights, in order.
    pub inputs: Vec<TensorFact>,
    /// Graph outputs, in order.
    pub outputs: Vec<TensorFact>,
    /// `(domain, op_type)` of every operator used, each once, sorted.
    pub operators: Vec<(String, String)>,
    /// `metadata_props`, plus `doc_string` as `doc_string` and `producer_name` as `producer`.
    pub metadata: BTreeMap<String, String>,
}

impl ModelFacts {
    /// Reads the facts of the ONNX file at `path`.
    pub fn read(path: &Path) -> Result<Self, OnnxError> {
        let proto = tract_onnx::onnx()
            .proto_model_for_path(path)
            .map_err(|e| OnnxError::Unreadable(format!("{}: {e}", path.display())))?;
        Self::of(&proto)
    }

    /// The facts of a parsed model.
    pub fn of(proto: &pb::ModelProto) -> Result<Self, OnnxError> {
        let graph = proto
            .graph
            .as_ref()
            .ok_or_else(|| OnnxError::Unreadable("the file holds no graph".to_owned()))?;
        let weights: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
        let inputs = graph
            .input
            .iter()
            .filter(|i| !weights.contains(&i.name.as_str()))
            .map(fact)
            .collect::<Result<Vec<_>, _>>()?;
        let outputs = graph.output.iter().map(fact).collect::<Result<Vec<_>, _>>()?;
        let mut operators: Vec<(String, String)> = graph
            .node
            .iter()
            .map(|n| (n.domain.clone(), n.op_type.clone()))
            .collect();
        operators.sort();
        operators.dedup();
        let mut metadata: BTreeMap<String, String> = proto
            .metadata_props
            .iter()
            .map(|e| (e.key.clone(), e.value.clone()))
            .collect();
        if !proto.doc_string.is_empty() {
            metadata
                .entry("doc_string".to_owned())
                .or_insert_with(|| proto.doc_string.clone());
        }
        if !proto.producer_name.is_empty() {
            metadata.insert("producer".to_owned(), proto.producer_name.clone());
        }
        if inputs.is_empty() {
            return Err(OnnxError::Unreadable("the graph has no inputs".to_owned()));
        }
        Ok(Self {
            inputs,
            outputs,
            operators,
            metadata,
        })
    }

    /// Whether every input and output has a varying first dimension, so requests can be batched
    /// along it.
    pub fn batchable(&self) -> bool {
        self.inputs
            .iter()
            .chain(&self.outputs)
            .all(|t| t.dims.first().is_some_and(Dimension::varies))
    }
}

fn fact(value: &pb::ValueInfoProto) -> Result<TensorFact, OnnxError> {
    let unsupported = |what: &str| OnnxError::Unsupported(format!("tensor `{}` is {what}", value.name));
    let Some(pb::type_proto::Value::TensorType(tensor)) = value.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return Err(unsupported(
            "not a tensor (sequences and maps are not served; export classifiers with `zipmap: False`)",
        ));
    };
    let datatype = match tensor.elem_type {
        1 => DataType::Fp32,
        2 => DataType::Uint8,
        3 => DataType::Int8,
        4 => DataType::Uint16,
        5 => DataType::Int16,
        6 => DataType::Int32,
        7 => DataType::Int64,
        8 => DataType::Bytes,
        9 => DataType::Bool,
        10 => DataType::Fp16,
        11 => DataType::Fp64,
        12 => DataType::Uint32,
        13 => DataType::Uint64,
        other => {
            return Err(unsupported(&format!(
                "of ONNX element type {other}, which has no protocol type"
            )));
        }
    };
    let dims = tensor
        .shape
        .as_ref()
        .map(|shape| {
            shape
                .dim
                .iter()
                .map(|d| match &d.value {
                    Some(Dim::DimValue(n)) if *n > 0 => Dimension::Fixed(*n as usize),
                    Some(Dim::DimParam(name)) if !name.is_empty() => Dimension::Symbolic(name.clone()),
                    _ => Dimension::Unknown,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(TensorFact {
        name: value.name.clone(),
        datatype,
        dims,
    })
}
