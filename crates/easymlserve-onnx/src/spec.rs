//! The service spec of an ONNX file, from its tensors alone: a request schema with one nested-array
//! field per input (element type and shape as JSON Schema, so `/docs` and validation know them), the
//! response schema of the outputs, the tensor signature for the inference protocol, image layouts
//! for image-shaped inputs, class names for a classifier's scores, and an example request.

use std::path::Path;

use easymlserve_core::{Capabilities, ImageLayout, ServiceInfo, ServiceSpec, TensorSignature, TensorSpec};
use easymlserve_server::oip::DataType;
use serde_json::{Map, Value, json};

use crate::model::{Dimension, ModelFacts, TensorFact};

/// Largest example request generated from zeros, in elements.
const MAX_GENERATED_EXAMPLE: usize = 4096;

/// The spec of a model named `name` with `facts`; `example` is the request in `<model>.example.json`.
pub(crate) fn service_spec(name: &str, facts: &ModelFacts, platform: &str, example: Option<Value>) -> ServiceSpec {
    let description = facts
        .metadata
        .get("description")
        .or_else(|| facts.metadata.get("doc_string"))
        .cloned()
        .unwrap_or_else(|| {
            let list = |ts: &[TensorFact]| {
                ts.iter()
                    .map(|t| format!("`{}` {} {}", t.name, t.datatype, t.shape_text()))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            format!(
                "ONNX model: inputs {}; outputs {}.",
                list(&facts.inputs),
                list(&facts.outputs)
            )
        });
    let version = facts.metadata.get("version").cloned().unwrap_or_else(|| "1".to_owned());
    let info = ServiceInfo::new(name).version(version).description(description);
    let mut spec = ServiceSpec::new(info, object_schema(&facts.inputs), object_schema(&facts.outputs));
    spec.example_request = example.or_else(|| generated_example(&facts.inputs));
    spec.capabilities = Capabilities {
        batching: facts.batchable(),
        ..Capabilities::default()
    };
    let labels = labels(facts);
    spec.tensors = Some(TensorSignature {
        inputs: facts
            .inputs
            .iter()
            .map(|t| TensorSpec {
                image: image_layout(t, facts),
                ..TensorSpec::new(&t.name, t.datatype.name(), t.shape())
            })
            .collect(),
        outputs: facts
            .outputs
            .iter()
            .map(|t| TensorSpec {
                labels: labels.as_ref().filter(|l| scores_for(t, l.len())).cloned(),
                ..TensorSpec::new(&t.name, t.datatype.name(), t.shape())
            })
            .collect(),
        platform: Some(platform.to_owned()),
    });
    spec
}

/// The example next to the model: `digits.onnx` -> `digits.example.json`.
pub(crate) fn example_beside(model: &Path) -> Option<Value> {
    let path = model.with_extension("example.json");
    let text = std::fs::read_to_string(&path).ok()?;
    match serde_json::from_str(&text) {
        Ok(value) => Some(value),
        Err(err) => {
            tracing::warn!(path = %path.display(), %err, "the example request is not JSON; ignored");
            None
        }
    }
}

fn object_schema(tensors: &[TensorFact]) -> Value {
    let properties: Map<String, Value> = tensors.iter().map(|t| (t.name.clone(), tensor_schema(t))).collect();
    let required: Vec<&str> = tensors.iter().map(|t| t.name.as_str()).collect();
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

/// A nested-array schema of the tensor's rank, element type and fixed dimensions.
fn tensor_schema(tensor: &TensorFact) -> Value {
    let mut schema = element_schema(tensor.datatype);
    for dim in tensor.dims.iter().rev() {
        let mut array = json!({"type": "array", "items": schema});
        if let Dimension::Fixed(n) = dim {
            array["minItems"] = (*n).into();
            array["maxItems"] = (*n).into();
        }
        schema = array;
    }
    let description = format!(
        "{} tensor of shape {}, as nested lists ({}).",
        tensor.datatype,
        tensor.shape_text(),
        tensor.datatype.numpy_name()
    );
    if let Value::Object(fields) = &mut schema {
        fields.insert("description".to_owned(), description.into());
        fields.insert(
            "x-easymlserve-tensor".to_owned(),
            json!({"datatype": tensor.datatype.name(), "shape": tensor.shape_text()}),
        );
    }
    schema
}

fn element_schema(datatype: DataType) -> Value {
    let range = |lo: i128, hi: i128| json!({"type": "integer", "minimum": lo as f64, "maximum": hi as f64});
    match datatype {
        DataType::Bool => json!({"type": "boolean"}),
        DataType::Bytes => json!({"type": "string"}),
        DataType::Fp16 | DataType::Fp32 | DataType::Fp64 => json!({"type": "number"}),
        DataType::Uint8 => range(0, u8::MAX.into()),
        DataType::Uint16 => range(0, u16::MAX.into()),
        DataType::Uint32 => range(0, u32::MAX.into()),
        DataType::Uint64 => json!({"type": "integer", "minimum": 0}),
        DataType::Int8 => range(i8::MIN.into(), i8::MAX.into()),
        DataType::Int16 => range(i16::MIN.into(), i16::MAX.into()),
        DataType::Int32 => range(i32::MIN.into(), i32::MAX.into()),
        DataType::Int64 => json!({"type": "integer"}),
    }
}

/// Zeros of the input shapes with every varying dimension 1, when that is small.
fn generated_example(inputs: &[TensorFact]) -> Option<Value> {
    let mut body = Map::new();
    for input in inputs {
        let dims: Vec<usize> = input
            .dims
            .iter()
            .map(|d| match d {
                Dimension::Fixed(n) => *n,
                _ => 1,
            })
            .collect();
        if dims.iter().product::<usize>() > MAX_GENERATED_EXAMPLE {
            return None;
        }
        let zero = match input.datatype {
            DataType::Bool => json!(false),
            DataType::Bytes => json!(""),
            t if t.is_float() => json!(0.0),
            _ => json!(0),
        };
        let value = dims.iter().rev().fold(zero, |inner, &n| Value::Array(vec![inner; n]));
        body.insert(input.name.clone(), value);
    }
    Some(Value::Object(body))
}

/// The class names in the metadata (`classes` or `labels`): a JSON list, or comma-separated.
fn labels(facts: &ModelFacts) -> Option<Vec<String>> {
    let text = facts.metadata.get("classes").or_else(|| facts.metadata.get("labels"))?;
    let list = serde_json::from_str::<Vec<Value>>(text)
        .map(|values| {
            values
                .into_iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .collect()
        })
        .unwrap_or_else(|_| text.split(',').map(|s| s.trim().to_owned()).collect::<Vec<_>>());
    (!list.is_empty()).then_some(list)
}

/// Whether `tensor` holds one score per class: a float `[N, classes]` or `[classes]`.
fn scores_for(tensor: &TensorFact, classes: usize) -> bool {
    tensor.datatype.is_float() && tensor.dims.len() <= 2 && tensor.dims.last() == Some(&Dimension::Fixed(classes))
}

/// The layout of an image-shaped input: `[N, C, H, W]` or `[N, H, W, C]` with C of 1 or 3, in a float
/// or 8-bit type; the scaling from metadata (`easymlserve.image.scale`, `.offset`), by default 1/255
/// for floats and 1 for bytes.
fn image_layout(tensor: &TensorFact, facts: &ModelFacts) -> Option<ImageLayout> {
    if tensor.dims.len() != 4 || !(tensor.datatype.is_float() || tensor.datatype == DataType::Uint8) {
        return None;
    }
    let channels = |d: &Dimension| match d {
        Dimension::Fixed(c @ (1 | 3)) => Some(*c as u8),
        _ => None,
    };
    let side = |d: &Dimension| match d {
        Dimension::Fixed(n) => u32::try_from(*n).ok(),
        _ => None,
    };
    let (channels_first, channels, height, width) = match (channels(&tensor.dims[1]), channels(&tensor.dims[3])) {
        (Some(c), _) => (true, c, side(&tensor.dims[2]), side(&tensor.dims[3])),
        (None, Some(c)) => (false, c, side(&tensor.dims[1]), side(&tensor.dims[2])),
        (None, None) => return None,
    };
    let number = |key: &str| facts.metadata.get(key).and_then(|v| v.trim().parse::<f64>().ok());
    let default_scale = if tensor.datatype.is_float() { 1.0 / 255.0 } else { 1.0 };
    Some(ImageLayout {
        channels_first,
        channels,
        height,
        width,
        scale: number("easymlserve.image.scale").unwrap_or(default_scale),
        offset: number("easymlserve.image.offset").unwrap_or(0.0),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn fact(name: &str, datatype: DataType, dims: Vec<Dimension>) -> TensorFact {
        TensorFact {
            name: name.to_owned(),
            datatype,
            dims,
        }
    }

    #[test]
    fn every_element_type_gets_its_json_type_and_range() {
        assert_eq!(
            element_schema(DataType::Uint8),
            json!({"type": "integer", "minimum": 0.0, "maximum": 255.0})
        );
        assert_eq!(element_schema(DataType::Int16)["minimum"], json!(-32768.0));
        assert_eq!(
            element_schema(DataType::Uint64),
            json!({"type": "integer", "minimum": 0})
        );
        assert_eq!(element_schema(DataType::Fp16), json!({"type": "number"}));
        assert_eq!(element_schema(DataType::Bool), json!({"type": "boolean"}));
        assert_eq!(element_schema(DataType::Bytes), json!({"type": "string"}));
    }

    #[test]
    fn shapes_become_nested_arrays_with_fixed_sides_and_hints_for_the_gui() {
        let facts = ModelFacts {
            inputs: vec![
                fact(
                    "pixels",
                    DataType::Uint8,
                    vec![
                        Dimension::Symbolic("N".into()),
                        Dimension::Fixed(4),
                        Dimension::Fixed(5),
                        Dimension::Fixed(3),
                    ],
                ),
                fact("tokens", DataType::Bytes, vec![Dimension::Unknown]),
            ],
            outputs: vec![fact(
                "scores",
                DataType::Fp32,
                vec![Dimension::Unknown, Dimension::Fixed(2)],
            )],
            operators: Vec::new(),
            metadata: BTreeMap::from([("labels".to_owned(), "no, yes".to_owned())]),
        };
        let spec = service_spec("m", &facts, "tract_onnx", None);
        let pixels = &spec.request_schema["properties"]["pixels"];
        assert_eq!(pixels["items"]["minItems"], 4);
        assert_eq!(pixels["items"]["items"]["items"]["maxItems"], 3);
        assert_eq!(pixels["x-easymlserve-tensor"]["shape"], "[N, 4, 5, 3]");
        let tensors = spec.tensors.expect("tensors");
        let layout = tensors.inputs[0]
            .image
            .clone()
            .expect("NHWC with 3 channels is an image");
        assert_eq!(
            (layout.channels_first, layout.channels, layout.height, layout.width),
            (false, 3, Some(4), Some(5))
        );
        assert_eq!(layout.scale, 1.0, "8-bit inputs take pixels as they are");
        assert!(tensors.inputs[1].image.is_none());
        assert_eq!(tensors.outputs[0].labels, Some(vec!["no".to_owned(), "yes".to_owned()]));
        // Zeros with the varying dimensions at 1, when small.
        assert_eq!(spec.example_request.expect("example")["tokens"], json!([""]));
        assert!(spec.capabilities.batching);
    }
}
