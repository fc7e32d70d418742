//! How a served model's JSON meets the inference protocol's tensors. A tensor model (an ONNX file)
//! maps its own tensors one to one, each a nested array in the REST body. A JSON service maps each
//! top-level field of its request and response schema to a tensor: an integer to `INT64 [1]`, a number
//! to `FP64 [1]`, a boolean to `BOOL [1]`, a string to `BYTES [1]`, arrays of numbers to FP64/INT64
//! tensors of their nesting (`-1` dimensions), arrays of strings to `BYTES [-1]`, and anything else to
//! a `BYTES [1]` tensor holding the field's JSON text. `docs/inference-protocol.md` documents it.

use easymlserve_core::{ServiceSpec, TensorSpec, main_type as kind, resolve};
use serde_json::{Map, Value};

use super::{DataType, OipError, Tensor, TensorData};

/// How one tensor sits in the JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// A nested array of the tensor's shape (a bare value for a scalar).
    Nested,
    /// One JSON scalar from a one-element tensor.
    Scalar,
    /// JSON text in a one-element `BYTES` tensor.
    Json,
}

/// One input or output tensor and how it is written in JSON.
#[derive(Debug, Clone)]
pub(crate) struct Port {
    pub spec: TensorSpec,
    pub datatype: DataType,
    pub encoding: Encoding,
}

/// The tensors of a model and whether they are the model's own or mapped from JSON fields.
#[derive(Debug, Clone)]
pub(crate) struct Signature {
    pub inputs: Vec<Port>,
    pub outputs: Vec<Port>,
    /// The model has tensors of its own; else they are mapped from JSON fields.
    pub native: bool,
    /// The platform named in the model metadata.
    pub platform: String,
}

impl Signature {
    /// The signature of a loaded spec.
    pub fn of(spec: &ServiceSpec) -> Self {
        if let Some(tensors) = &spec.tensors {
            let port = |t: &TensorSpec| Port {
                spec: t.clone(),
                datatype: DataType::parse(&t.datatype).unwrap_or(DataType::Bytes),
                encoding: Encoding::Nested,
            };
            return Self {
                inputs: tensors.inputs.iter().map(port).collect(),
                outputs: tensors.outputs.iter().map(port).collect(),
                native: true,
                platform: tensors.platform.clone().unwrap_or_else(|| "onnx".to_owned()),
            };
        }
        Self {
            inputs: fields(&spec.request_schema, "body"),
            outputs: fields(&spec.response_schema, "response"),
            native: false,
            platform: "easymlserve_json".to_owned(),
        }
    }

    /// The REST body of the request these tensors make.
    pub fn request_json(&self, tensors: Vec<(String, Tensor)>) -> Result<Value, OipError> {
        let mut body = Map::new();
        for (name, tensor) in tensors {
            let Some(port) = self.inputs.iter().find(|p| p.spec.name == name) else {
                let known: Vec<String> = self.inputs.iter().map(|p| format!("`{}`", p.spec.name)).collect();
                return Err(OipError::bad(format!(
                    "input `{name}` is not an input of this model; its inputs are {}",
                    known.join(", ")
                )));
            };
            check_datatype(port, &tensor, self.native)?;
            let value = to_json(port, tensor)?;
            if port.spec.name == WHOLE_BODY && !self.native && self.inputs.len() == 1 {
                return Ok(value);
            }
            body.insert(name, value);
        }
        Ok(Value::Object(body))
    }

    /// The output tensors of a REST answer, in the model's order; fields the answer lacks are left out.
    pub fn response_tensors(&self, body: Value) -> Result<Vec<(Port, Tensor)>, OipError> {
        let mut fields = match body {
            Value::Object(fields) => fields,
            whole => Map::from_iter([(WHOLE_RESPONSE.to_owned(), whole)]),
        };
        let mut out = Vec::with_capacity(self.outputs.len());
        for port in &self.outputs {
            let Some(value) = fields.remove(&port.spec.name) else {
                continue;
            };
            let tensor = from_json(port, value)
                .map_err(|e| OipError::Internal(format!("output `{}` does not fit its tensor: {e}", port.spec.name)))?;
            out.push((port.clone(), tensor));
        }
        Ok(out)
    }
}

/// The one input of a service whose request is not an object with fields: the whole body as JSON.
const WHOLE_BODY: &str = "body";
/// The one output of a service whose answer is not an object with fields.
const WHOLE_RESPONSE: &str = "response";

fn check_datatype(port: &Port, tensor: &Tensor, native: bool) -> Result<(), OipError> {
    let got = tensor.datatype();
    let fits = got == port.datatype
        || (!native
            && match port.datatype {
                DataType::Fp64 => got.is_float() || got.is_integer(),
                DataType::Int64 => got.is_integer(),
                _ => false,
            });
    if fits {
        return Ok(());
    }
    Err(OipError::bad(format!(
        "input `{}` must be {} of shape {}, got {got}",
        port.spec.name,
        port.datatype,
        shape_text(&port.spec.shape)
    )))
}

/// `[-1, 10]` as `[-1, 10]`.
pub(crate) fn shape_text(shape: &[i64]) -> String {
    let dims: Vec<String> = shape.iter().map(i64::to_string).collect();
    format!("[{}]", dims.join(", "))
}

fn to_json(port: &Port, tensor: Tensor) -> Result<Value, OipError> {
    let name = &port.spec.name;
    match port.encoding {
        Encoding::Nested => Ok(tensor.to_nested_json()),
        Encoding::Scalar | Encoding::Json if tensor.data.len() != 1 => Err(OipError::bad(format!(
            "input `{name}` holds one value (shape [1]), got shape {:?}",
            tensor.shape
        ))),
        Encoding::Scalar => Ok(tensor
            .to_flat_json()
            .as_array_mut()
            .and_then(|a| a.pop())
            .unwrap_or(Value::Null)),
        Encoding::Json => match tensor.data {
            TensorData::Bytes(mut v) => {
                let text = v.pop().unwrap_or_default();
                serde_json::from_slice(&text)
                    .map_err(|e| OipError::bad(format!("input `{name}` must hold JSON text: {e}")))
            }
            _ => Err(OipError::bad(format!("input `{name}` must be BYTES holding JSON text"))),
        },
    }
}

fn from_json(port: &Port, value: Value) -> Result<Tensor, String> {
    let scalar = |data| Tensor::new(vec![1], data).map_err(|e| e.to_string());
    match (port.encoding, value) {
        (Encoding::Nested, value) => Tensor::from_nested_json(port.datatype, &value).map_err(|e| e.to_string()),
        (Encoding::Scalar, Value::Number(n)) if port.datatype == DataType::Int64 && n.as_i64().is_some() => {
            scalar(TensorData::Int64(vec![n.as_i64().unwrap_or_default()]))
        }
        (Encoding::Scalar, Value::Number(n)) => scalar(TensorData::Fp64(vec![n.as_f64().unwrap_or(f64::NAN)])),
        (Encoding::Scalar, Value::Bool(b)) => scalar(TensorData::Bool(vec![b])),
        (Encoding::Scalar, Value::String(s)) => scalar(TensorData::Bytes(vec![s.into_bytes()])),
        (_, other) => scalar(TensorData::Bytes(vec![other.to_string().into_bytes()])),
    }
}

/// The ports of the top-level fields of `schema`; a schema that is not an object with fields is one
/// `BYTES` port named `whole`, holding the whole body as JSON.
fn fields(schema: &Value, whole: &str) -> Vec<Port> {
    let root = resolve(schema, schema);
    let Some(properties) = root
        .get("properties")
        .and_then(Value::as_object)
        .filter(|p| !p.is_empty())
    else {
        return vec![port(whole, DataType::Bytes, vec![1], Encoding::Json)];
    };
    properties
        .iter()
        .map(|(name, property)| {
            let property = resolve(property, schema);
            match kind(property) {
                "integer" => port(name, DataType::Int64, vec![1], Encoding::Scalar),
                "number" => port(name, DataType::Fp64, vec![1], Encoding::Scalar),
                "boolean" => port(name, DataType::Bool, vec![1], Encoding::Scalar),
                "string" => port(name, DataType::Bytes, vec![1], Encoding::Scalar),
                "array" => match array_leaf(property, schema) {
                    Some((leaf, shape)) => port(name, leaf, shape, Encoding::Nested),
                    None => port(name, DataType::Bytes, vec![1], Encoding::Json),
                },
                _ => port(name, DataType::Bytes, vec![1], Encoding::Json),
            }
        })
        .collect()
}

fn port(name: &str, datatype: DataType, shape: Vec<i64>, encoding: Encoding) -> Port {
    Port {
        spec: TensorSpec::new(name, datatype.name(), shape),
        datatype,
        encoding,
    }
}

/// The element type and shape of an array of numbers (nested to any depth) or of strings (one level).
fn array_leaf(schema: &Value, root: &Value) -> Option<(DataType, Vec<i64>)> {
    let mut shape = Vec::new();
    let mut current = schema;
    while kind(current) == "array" && shape.len() < 8 {
        let fixed = match (current.get("minItems"), current.get("maxItems")) {
            (Some(lo), Some(hi)) if lo == hi => lo.as_i64().unwrap_or(-1),
            _ => -1,
        };
        shape.push(fixed);
        current = resolve(current.get("items")?, root);
    }
    let leaf = match kind(current) {
        "integer" => DataType::Int64,
        "number" => DataType::Fp64,
        "string" if shape.len() == 1 => DataType::Bytes,
        _ => return None,
    };
    Some((leaf, shape))
}

#[cfg(test)]
mod tests {
    use easymlserve_core::ServiceInfo;
    use serde_json::json;

    use super::*;

    fn echo_like() -> ServiceSpec {
        ServiceSpec::new(
            ServiceInfo::new("echo"),
            json!({"type": "object", "required": ["text"], "properties": {
                "text": {"type": "string"},
                "repeat": {"type": "integer", "minimum": 1},
                "weights": {"type": "array", "items": {"type": "array", "minItems": 3, "maxItems": 3, "items": {"type": "number"}}},
                "tags": {"type": "array", "items": {"type": "string"}},
                "flag": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
                "extra": {"$ref": "#/$defs/Extra"}
            }, "$defs": {"Extra": {"type": "object"}}}),
            json!({"type": "object", "properties": {"text": {"type": "string"}, "score": {"type": "number"}}}),
        )
    }

    #[test]
    fn json_fields_map_to_tensors_by_kind() {
        let signature = Signature::of(&echo_like());
        let described: Vec<(String, String, Vec<i64>)> = signature
            .inputs
            .iter()
            .map(|p| (p.spec.name.clone(), p.spec.datatype.clone(), p.spec.shape.clone()))
            .collect();
        let want = [
            ("extra", "BYTES", vec![1]),
            ("flag", "BOOL", vec![1]),
            ("repeat", "INT64", vec![1]),
            ("tags", "BYTES", vec![-1]),
            ("text", "BYTES", vec![1]),
            ("weights", "FP64", vec![-1, 3]),
        ];
        let want: Vec<(String, String, Vec<i64>)> = want
            .iter()
            .map(|(n, d, s)| ((*n).to_owned(), (*d).to_owned(), s.clone()))
            .collect();
        assert_eq!(described, want);
        assert!(!signature.native);
    }

    #[test]
    fn tensors_become_the_rest_body_and_the_answer_becomes_tensors() {
        let signature = Signature::of(&echo_like());
        let tensors = vec![
            (
                "text".to_owned(),
                Tensor::new(vec![1], TensorData::Bytes(vec![b"ab".to_vec()])).expect("t"),
            ),
            (
                "repeat".to_owned(),
                Tensor::new(vec![1], TensorData::Int32(vec![3])).expect("t"),
            ),
            (
                "extra".to_owned(),
                Tensor::new(vec![1], TensorData::Bytes(vec![br#"{"k": [1]}"#.to_vec()])).expect("t"),
            ),
            (
                "weights".to_owned(),
                Tensor::new(vec![1, 3], TensorData::Fp32(vec![0.5, 1.0, 2.0])).expect("t"),
            ),
        ];
        let body = signature.request_json(tensors).expect("body");
        assert_eq!(
            body,
            json!({"text": "ab", "repeat": 3, "extra": {"k": [1]}, "weights": [[0.5, 1.0, 2.0]]})
        );
        let outputs = signature
            .response_tensors(json!({"text": "abab", "score": 0.5}))
            .expect("outputs");
        let got: Vec<(String, TensorData)> = outputs.into_iter().map(|(p, t)| (p.spec.name, t.data)).collect();
        assert_eq!(
            got,
            vec![
                ("score".to_owned(), TensorData::Fp64(vec![0.5])),
                ("text".to_owned(), TensorData::Bytes(vec![b"abab".to_vec()])),
            ]
        );
    }

    #[test]
    fn wrong_names_types_and_sizes_are_400s_naming_the_input() {
        let signature = Signature::of(&echo_like());
        let one = |name: &str, data| vec![(name.to_owned(), Tensor::new(vec![1], data).expect("t"))];
        let err = signature
            .request_json(one("nope", TensorData::Bool(vec![true])))
            .expect_err("unknown");
        assert!(err.to_string().contains("`nope` is not an input"), "{err}");
        let err = signature
            .request_json(one("repeat", TensorData::Fp32(vec![1.0])))
            .expect_err("dtype");
        assert!(err.to_string().contains("`repeat` must be INT64"), "{err}");
        let two = vec![(
            "text".to_owned(),
            Tensor::new(vec![2], TensorData::Bytes(vec![vec![], vec![]])).expect("t"),
        )];
        assert!(
            signature
                .request_json(two)
                .expect_err("size")
                .to_string()
                .contains("one value")
        );
    }
}
