//! A small builder of ONNX graphs from the protobuf types tract-onnx generates: nodes of the handful of
//! standard operators the U-Net needs (Conv, Relu, MaxPool, Resize, Add), float32 initializers taken
//! from candle tensors, and the typed inputs and outputs, so the wiring in `super` reads like
//! `UNet::forward`.

use std::collections::{BTreeSet, HashMap};

use anyhow::{Context, bail, ensure};
use candle_core::{DType, Tensor};
use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::tensor_shape_proto::{Dimension, dimension};
use tract_onnx::pb::{
    AttributeProto, GraphProto, NodeProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto, type_proto,
};

/// The name of the shared `[1, 1, 2, 2]` scales of every upsampling.
pub const UPSAMPLE_SCALES: &str = "upsample_scales";

/// A dimension of a graph input or output: fixed, or named and chosen per request.
#[derive(Debug, Clone, Copy)]
pub enum Dim {
    /// A fixed size.
    Fixed(i64),
    /// A symbolic size (`N`, `H`).
    Named(&'static str),
}

/// Builds one graph, taking each weight out of `weights` as it is wired in.
pub struct GraphBuilder {
    weights: HashMap<String, Tensor>,
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
}

impl GraphBuilder {
    /// A builder over the named weight tensors (the safetensors file's contents).
    pub fn new(weights: HashMap<String, Tensor>) -> Self {
        Self {
            weights,
            nodes: Vec::new(),
            initializers: vec![float_initializer(UPSAMPLE_SCALES, &[4], &[1.0, 1.0, 2.0, 2.0])],
        }
    }

    /// A same-padded convolution with the `k` x `k` kernel `{prefix}.weight` (`[to, from, k, k]`) and
    /// the bias `{prefix}.bias` (`[to]`); its output is named `output`, or `prefix` when `None`.
    pub fn conv(
        &mut self,
        prefix: &str,
        input: &str,
        from: usize,
        to: usize,
        k: usize,
        output: Option<&str>,
    ) -> anyhow::Result<String> {
        let weight = self.take(&format!("{prefix}.weight"), &[to, from, k, k])?;
        let bias = self.take(&format!("{prefix}.bias"), &[to])?;
        let (k, pad) = (k as i64, (k / 2) as i64);
        let attributes = vec![
            ints("kernel_shape", &[k, k]),
            ints("pads", &[pad, pad, pad, pad]),
            ints("strides", &[1, 1]),
        ];
        Ok(self.node("Conv", prefix, &[input, &weight, &bias], attributes, output))
    }

    /// `max(x, 0)`.
    pub fn relu(&mut self, name: &str, input: &str) -> String {
        self.node("Relu", name, &[input], Vec::new(), None)
    }

    /// 2 x 2 max-pooling with stride 2 (candle's `max_pool2d(2)`).
    pub fn max_pool(&mut self, name: &str, input: &str) -> String {
        let attributes = vec![ints("kernel_shape", &[2, 2]), ints("strides", &[2, 2])];
        self.node("MaxPool", name, &[input], attributes, None)
    }

    /// Nearest-neighbour upsampling to twice the height and width: output pixel `(y, x)` copies input
    /// pixel `(y / 2, x / 2)`, as candle's `upsample_nearest2d(2 h, 2 w)` does.
    pub fn upsample2x(&mut self, name: &str, input: &str) -> String {
        let attributes = vec![
            string("mode", "nearest"),
            string("coordinate_transformation_mode", "asymmetric"),
            string("nearest_mode", "floor"),
        ];
        // Opset 13 inputs: X, roi (unused, left empty), scales.
        self.node("Resize", name, &[input, "", UPSAMPLE_SCALES], attributes, None)
    }

    /// `a + b`, same shapes.
    pub fn add(&mut self, name: &str, a: &str, b: &str) -> String {
        self.node("Add", name, &[a, b], Vec::new(), None)
    }

    /// The graph named `name` with one input and one output, both float32 of the given dimensions;
    /// fails if a weight of the file was never wired in (then the file is not this network's).
    pub fn finish(self, name: &str, input: (&str, &[Dim]), output: (&str, &[Dim])) -> anyhow::Result<GraphProto> {
        if !self.weights.is_empty() {
            let unused: BTreeSet<&str> = self.weights.keys().map(String::as_str).collect();
            bail!(
                "the weights file holds tensors this U-Net does not use: {}",
                unused.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
        Ok(GraphProto {
            name: name.to_owned(),
            node: self.nodes,
            initializer: self.initializers,
            input: vec![float_value(input.0, input.1)],
            output: vec![float_value(output.0, output.1)],
            ..GraphProto::default()
        })
    }

    /// Removes the weight `name` from the file's tensors, checks its shape, and adds it as an
    /// initializer of the same name.
    fn take(&mut self, name: &str, shape: &[usize]) -> anyhow::Result<String> {
        let tensor = self
            .weights
            .remove(name)
            .with_context(|| format!("the weights file has no tensor `{name}`"))?;
        ensure!(
            tensor.dims() == shape,
            "the weight `{name}` has the shape {:?}, this U-Net needs {shape:?}",
            tensor.dims()
        );
        let values = tensor
            .to_dtype(DType::F32)
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1::<f32>())
            .with_context(|| format!("cannot read the weight `{name}` as float32"))?;
        let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        self.initializers.push(float_initializer(name, &dims, &values));
        Ok(name.to_owned())
    }

    /// Appends a node named `name` whose single output is `output` (default: `name`); returns it.
    fn node(
        &mut self,
        op_type: &str,
        name: &str,
        inputs: &[&str],
        attribute: Vec<AttributeProto>,
        output: Option<&str>,
    ) -> String {
        let output = output.unwrap_or(name).to_owned();
        self.nodes.push(NodeProto {
            name: name.to_owned(),
            op_type: op_type.to_owned(),
            input: inputs.iter().map(|s| (*s).to_owned()).collect(),
            output: vec![output.clone()],
            attribute,
            ..NodeProto::default()
        });
        output
    }
}

/// A float32 constant stored as little-endian raw bytes (the compact encoding).
fn float_initializer(name: &str, dims: &[i64], values: &[f32]) -> TensorProto {
    TensorProto {
        name: name.to_owned(),
        dims: dims.to_vec(),
        data_type: DataType::Float as i32,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..TensorProto::default()
    }
}

/// A float32 tensor's name, type and shape.
fn float_value(name: &str, dims: &[Dim]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Fixed(n) => dimension::Value::DimValue(*n),
                Dim::Named(s) => dimension::Value::DimParam((*s).to_owned()),
            }),
            ..Dimension::default()
        })
        .collect();
    ValueInfoProto {
        name: name.to_owned(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
            ..TypeProto::default()
        }),
        ..ValueInfoProto::default()
    }
}

fn ints(name: &str, values: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.to_owned(),
        r#type: AttributeType::Ints as i32,
        ints: values.to_vec(),
        ..AttributeProto::default()
    }
}

fn string(name: &str, value: &str) -> AttributeProto {
    AttributeProto {
        name: name.to_owned(),
        r#type: AttributeType::String as i32,
        s: value.as_bytes().to_vec(),
        ..AttributeProto::default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

    use candle_core::Device;

    use super::*;

    fn conv_weights(prefix: &str, from: usize, to: usize, k: usize) -> HashMap<String, Tensor> {
        HashMap::from([
            (
                format!("{prefix}.weight"),
                Tensor::zeros((to, from, k, k), DType::F32, &Device::Cpu).unwrap(),
            ),
            (
                format!("{prefix}.bias"),
                Tensor::zeros(to, DType::F32, &Device::Cpu).unwrap(),
            ),
        ])
    }

    #[test]
    fn a_weight_of_the_wrong_shape_is_named() {
        let mut graph = GraphBuilder::new(conv_weights("head", 8, 3, 1));
        let err = graph.conv("head", "x", 8, 4, 1, None).unwrap_err();
        assert!(
            format!("{err:#}").contains("`head.weight` has the shape [3, 8, 1, 1], this U-Net needs [4, 8, 1, 1]"),
            "{err:#}"
        );
    }

    #[test]
    fn unused_weights_are_refused() {
        let mut weights = conv_weights("head", 8, 3, 1);
        weights.extend(conv_weights("extra", 1, 1, 1));
        let mut graph = GraphBuilder::new(weights);
        graph.conv("head", "x", 8, 3, 1, Some("y")).unwrap();
        let dims = [Dim::Named("N")];
        let err = graph.finish("g", ("x", &dims), ("y", &dims)).unwrap_err();
        assert!(
            format!("{err}").contains("does not use: extra.bias, extra.weight"),
            "{err}"
        );
    }

    #[test]
    fn initializers_hold_the_weights_as_little_endian_floats() {
        let mut graph = GraphBuilder::new(conv_weights("head", 2, 1, 1));
        graph.conv("head", "x", 2, 1, 1, None).unwrap();
        let weight = graph.initializers.iter().find(|t| t.name == "head.weight").unwrap();
        assert_eq!(weight.dims, [1, 2, 1, 1]);
        assert_eq!(weight.raw_data.len(), 2 * 4);
        assert_eq!(graph.nodes[0].input, ["x", "head.weight", "head.bias"]);
    }
}
