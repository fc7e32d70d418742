//! The JSON documents of the inference protocol's infer route: the request header (inputs, requested
//! outputs, parameters) and the response header, and the split of a body that uses the binary-data
//! extension into its JSON header and the raw tensors that follow it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::binary;
use super::{DataType, OipError, Tensor};

/// `POST .../infer`, the JSON part.
#[derive(Debug, Deserialize)]
pub(crate) struct InferRequest {
    /// Echoed in the response.
    #[serde(default)]
    pub id: Option<String>,
    /// `binary_data_output: true` asks for every output in binary.
    #[serde(default)]
    pub parameters: Map<String, Value>,
    pub inputs: Vec<RequestInput>,
    /// The outputs wanted; all of them when absent.
    #[serde(default)]
    pub outputs: Option<Vec<RequestOutput>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RequestInput {
    pub name: String,
    pub datatype: String,
    pub shape: Vec<i64>,
    #[serde(default)]
    pub parameters: Map<String, Value>,
    #[serde(default)]
    pub data: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RequestOutput {
    pub name: String,
    #[serde(default)]
    pub parameters: Map<String, Value>,
}

/// The JSON part of an infer answer.
#[derive(Debug, Serialize)]
pub(crate) struct InferResponse {
    pub model_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub outputs: Vec<ResponseOutput>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ResponseOutput {
    pub name: String,
    pub datatype: &'static str,
    pub shape: Vec<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// The inputs of a request, read: each name with its tensor.
pub(crate) struct Inputs {
    pub header: InferRequest,
    pub tensors: Vec<(String, Tensor)>,
}

/// Reads an infer body: all JSON, or (with `Inference-Header-Content-Length: header_len`) a JSON
/// header followed by the raw tensors of the inputs that give `binary_data_size`, in input order.
pub(crate) fn read_inputs(body: &[u8], header_len: Option<usize>) -> Result<Inputs, OipError> {
    let (json, mut raw) = match header_len {
        None => (body, &[][..]),
        Some(len) if len <= body.len() => body.split_at(len),
        Some(len) => {
            return Err(OipError::bad(format!(
                "`Inference-Header-Content-Length` is {len} but the body has only {} bytes",
                body.len()
            )));
        }
    };
    let header: InferRequest =
        serde_json::from_slice(json).map_err(|e| OipError::bad(format!("the inference request is not valid: {e}")))?;
    let mut tensors = Vec::with_capacity(header.inputs.len());
    for input in &header.inputs {
        let at = |msg: String| OipError::bad(format!("input `{}`: {msg}", input.name));
        let datatype = DataType::parse(&input.datatype).ok_or_else(|| {
            at(format!(
                "unknown datatype `{}`; use one of BOOL, UINT8..UINT64, INT8..INT64, FP16, FP32, FP64, BYTES",
                input.datatype
            ))
        })?;
        let shape = input
            .shape
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| at(format!("shape {:?} has a negative dimension", input.shape))))
            .collect::<Result<Vec<_>, _>>()?;
        let binary_size = match input.parameters.get("binary_data_size") {
            None => None,
            Some(size) => Some(
                size.as_u64()
                    .and_then(|s| usize::try_from(s).ok())
                    .ok_or_else(|| at(format!("`binary_data_size` must be a byte count, got {size}")))?,
            ),
        };
        let tensor = match (binary_size, &input.data) {
            (Some(size), _) => {
                if size > raw.len() {
                    return Err(at(format!(
                        "`binary_data_size` is {size} but only {} bytes of binary data remain",
                        raw.len()
                    )));
                }
                let (mine, rest) = raw.split_at(size);
                raw = rest;
                binary::decode(datatype, shape, mine).map_err(|e| at(e.to_string()))?
            }
            (None, Some(data)) => Tensor::from_json_data(datatype, shape, data).map_err(|e| at(e.to_string()))?,
            (None, _) => return Err(at("has neither `data` nor `parameters.binary_data_size`".to_owned())),
        };
        tensors.push((input.name.clone(), tensor));
    }
    if !raw.is_empty() {
        return Err(OipError::bad(format!(
            "{} bytes of binary data follow the inputs' `binary_data_size`s",
            raw.len()
        )));
    }
    Ok(Inputs { header, tensors })
}

/// Whether `output` is wanted in binary: its own `binary_data` parameter, else the request's
/// `binary_data_output`.
pub(crate) fn wants_binary(request: &InferRequest, output: Option<&RequestOutput>) -> bool {
    output
        .and_then(|o| o.parameters.get("binary_data"))
        .or_else(|| request.parameters.get("binary_data_output"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// Writes an answer: the JSON header, then the raw outputs that go in binary. Returns the body and
/// the header's length when anything is binary.
pub(crate) fn write_outputs(
    mut response: InferResponse,
    tensors: Vec<(Tensor, bool)>,
) -> Result<(Vec<u8>, Option<usize>), OipError> {
    let mut raw = Vec::new();
    for (output, (tensor, binary)) in response.outputs.iter_mut().zip(&tensors) {
        if *binary {
            let bytes = binary::encode(tensor);
            output.parameters = Some(serde_json::json!({"binary_data_size": bytes.len()}));
            raw.extend_from_slice(&bytes);
        } else {
            output.data = Some(tensor.to_flat_json());
        }
    }
    let mut body = serde_json::to_vec(&response).map_err(|e| OipError::Internal(e.to_string()))?;
    if tensors.iter().any(|(_, binary)| *binary) {
        let header_len = body.len();
        body.extend_from_slice(&raw);
        return Ok((body, Some(header_len)));
    }
    Ok((body, None))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::oip::TensorData;

    fn binary_body(header: Value, raw: &[u8]) -> (Vec<u8>, usize) {
        let mut body = serde_json::to_vec(&header).expect("json");
        let len = body.len();
        body.extend_from_slice(raw);
        (body, len)
    }

    #[test]
    fn json_and_binary_inputs_are_read_in_order() {
        let header = json!({"id": "7", "inputs": [
            {"name": "a", "datatype": "FP32", "shape": [2], "parameters": {"binary_data_size": 8}},
            {"name": "b", "datatype": "INT64", "shape": [1, 2], "data": [[3, 4]]},
            {"name": "c", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": 6}},
        ]});
        let mut raw = [1.5f32.to_le_bytes(), (-2.0f32).to_le_bytes()].concat();
        raw.extend_from_slice(&[2, 0, 0, 0, b'h', b'i']);
        let (body, len) = binary_body(header, &raw);
        let inputs = read_inputs(&body, Some(len)).expect("inputs");
        assert_eq!(inputs.header.id.as_deref(), Some("7"));
        let data: Vec<_> = inputs
            .tensors
            .iter()
            .map(|(n, t)| (n.as_str(), t.data.clone()))
            .collect();
        assert_eq!(
            data,
            vec![
                ("a", TensorData::Fp32(vec![1.5, -2.0])),
                ("b", TensorData::Int64(vec![3, 4])),
                ("c", TensorData::Bytes(vec![b"hi".to_vec()])),
            ]
        );
    }

    #[test]
    fn lying_headers_and_sizes_are_400s() {
        let header =
            json!({"inputs": [{"name": "a", "datatype": "FP32", "shape": [2], "parameters": {"binary_data_size": 8}}]});
        let (body, len) = binary_body(header, &[0; 4]);
        let err = read_inputs(&body, Some(len)).err().expect("short");
        assert!(err.to_string().contains("only 4 bytes"), "{err}");
        let err = read_inputs(&body, Some(body.len() + 1)).err().expect("long header");
        assert!(err.to_string().contains("Inference-Header-Content-Length"), "{err}");
        let (body, len) = binary_body(json!({"inputs": []}), &[1]);
        assert!(
            read_inputs(&body, Some(len))
                .err()
                .expect("extra")
                .to_string()
                .contains("follow")
        );
        let bad = br#"{"inputs": [{"name": "a", "datatype": "FP32", "shape": [-1], "data": [1]}]}"#;
        assert!(
            read_inputs(bad, None)
                .err()
                .expect("negative")
                .to_string()
                .contains("negative")
        );
    }

    proptest! {
        /// Any header length and any bytes after a header: an answer or a 400, never a panic.
        #[test]
        fn arbitrary_bodies_never_panic(
            size in prop_oneof![0u64..40, Just(u64::MAX), Just(1u64 << 40)],
            dims in proptest::collection::vec(prop_oneof![-2i64..5, Just(i64::MAX)], 0..3),
            datatype in prop_oneof![Just("FP32"), Just("BYTES"), Just("BOOL"), Just("FP16"), Just("X")],
            raw in proptest::collection::vec(any::<u8>(), 0..48),
            cut in 0usize..200,
        ) {
            let header = json!({"inputs": [{"name": "t", "datatype": datatype, "shape": dims, "parameters": {"binary_data_size": size}}]});
            let (body, len) = binary_body(header, &raw);
            let _ = read_inputs(&body, Some(len));
            let _ = read_inputs(&body[..cut.min(body.len())], Some(len.min(cut)));
            let _ = read_inputs(&body, Some(cut));
        }
    }
}
