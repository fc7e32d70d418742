//! `Tensor`: a shape and a typed, row-major element vector, the one in-memory form of every tensor the
//! inference protocol carries, and the form ONNX runtimes are fed from. Built from JSON (flat or nested
//! `data`) with every element checked against its type, and written back as JSON; the binary forms
//! are in `binary.rs`.

use half::f16;
use serde_json::Value;

use super::DataType;

/// Deepest nesting accepted in a JSON tensor (a protection, not a model limit).
const MAX_DEPTH: usize = 32;

/// The elements of a tensor, row-major.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
pub enum TensorData {
    Bool(Vec<bool>),
    Uint8(Vec<u8>),
    Uint16(Vec<u16>),
    Uint32(Vec<u32>),
    Uint64(Vec<u64>),
    Int8(Vec<i8>),
    Int16(Vec<i16>),
    Int32(Vec<i32>),
    Int64(Vec<i64>),
    Fp16(Vec<f16>),
    Fp32(Vec<f32>),
    Fp64(Vec<f64>),
    Bytes(Vec<Vec<u8>>),
}

/// Applies `$body` to the vector inside any variant, bound as `$v`.
macro_rules! each {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            TensorData::Bool($v) => $body,
            TensorData::Uint8($v) => $body,
            TensorData::Uint16($v) => $body,
            TensorData::Uint32($v) => $body,
            TensorData::Uint64($v) => $body,
            TensorData::Int8($v) => $body,
            TensorData::Int16($v) => $body,
            TensorData::Int32($v) => $body,
            TensorData::Int64($v) => $body,
            TensorData::Fp16($v) => $body,
            TensorData::Fp32($v) => $body,
            TensorData::Fp64($v) => $body,
            TensorData::Bytes($v) => $body,
        }
    };
}
pub(crate) use each;

impl TensorData {
    /// The element type.
    pub fn datatype(&self) -> DataType {
        match self {
            Self::Bool(_) => DataType::Bool,
            Self::Uint8(_) => DataType::Uint8,
            Self::Uint16(_) => DataType::Uint16,
            Self::Uint32(_) => DataType::Uint32,
            Self::Uint64(_) => DataType::Uint64,
            Self::Int8(_) => DataType::Int8,
            Self::Int16(_) => DataType::Int16,
            Self::Int32(_) => DataType::Int32,
            Self::Int64(_) => DataType::Int64,
            Self::Fp16(_) => DataType::Fp16,
            Self::Fp32(_) => DataType::Fp32,
            Self::Fp64(_) => DataType::Fp64,
            Self::Bytes(_) => DataType::Bytes,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        each!(self, v => v.len())
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An empty vector of `datatype` with room for `capacity` elements.
    pub fn with_capacity(datatype: DataType, capacity: usize) -> Self {
        match datatype {
            DataType::Bool => Self::Bool(Vec::with_capacity(capacity)),
            DataType::Uint8 => Self::Uint8(Vec::with_capacity(capacity)),
            DataType::Uint16 => Self::Uint16(Vec::with_capacity(capacity)),
            DataType::Uint32 => Self::Uint32(Vec::with_capacity(capacity)),
            DataType::Uint64 => Self::Uint64(Vec::with_capacity(capacity)),
            DataType::Int8 => Self::Int8(Vec::with_capacity(capacity)),
            DataType::Int16 => Self::Int16(Vec::with_capacity(capacity)),
            DataType::Int32 => Self::Int32(Vec::with_capacity(capacity)),
            DataType::Int64 => Self::Int64(Vec::with_capacity(capacity)),
            DataType::Fp16 => Self::Fp16(Vec::with_capacity(capacity)),
            DataType::Fp32 => Self::Fp32(Vec::with_capacity(capacity)),
            DataType::Fp64 => Self::Fp64(Vec::with_capacity(capacity)),
            DataType::Bytes => Self::Bytes(Vec::with_capacity(capacity)),
        }
    }

    /// Appends one JSON element, checked against the type; `Err` says what was expected.
    fn push_json(&mut self, value: &Value) -> Result<(), &'static str> {
        fn int<T: TryFrom<i64> + TryFrom<u64>>(value: &Value) -> Option<T> {
            match value {
                Value::Number(n) => n
                    .as_i64()
                    .and_then(|i| T::try_from(i).ok())
                    .or_else(|| n.as_u64().and_then(|u| T::try_from(u).ok())),
                _ => None,
            }
        }
        let float = || value.as_f64();
        let ok = match self {
            Self::Bool(v) => value.as_bool().map(|b| v.push(b)).is_some(),
            Self::Uint8(v) => int(value).map(|x| v.push(x)).is_some(),
            Self::Uint16(v) => int(value).map(|x| v.push(x)).is_some(),
            Self::Uint32(v) => int(value).map(|x| v.push(x)).is_some(),
            Self::Uint64(v) => int(value).map(|x| v.push(x)).is_some(),
            Self::Int8(v) => int(value).map(|x| v.push(x)).is_some(),
            Self::Int16(v) => int(value).map(|x| v.push(x)).is_some(),
            Self::Int32(v) => int(value).map(|x| v.push(x)).is_some(),
            Self::Int64(v) => int(value).map(|x| v.push(x)).is_some(),
            Self::Fp16(v) => float().map(|x| v.push(f16::from_f64(x))).is_some(),
            Self::Fp32(v) => float().map(|x| v.push(x as f32)).is_some(),
            Self::Fp64(v) => float().map(|x| v.push(x)).is_some(),
            Self::Bytes(v) => value.as_str().map(|s| v.push(s.as_bytes().to_vec())).is_some(),
        };
        if ok {
            return Ok(());
        }
        Err(match self.datatype() {
            DataType::Bool => "true or false",
            DataType::Bytes => "a string",
            t if t.is_float() => "a number",
            _ => "an integer in the type's range",
        })
    }

    /// Element `i` as JSON (floats as the nearest double, bytes as text, invalid UTF-8 replaced).
    fn json_at(&self, i: usize) -> Value {
        match self {
            Self::Bool(v) => Value::Bool(v[i]),
            Self::Uint8(v) => v[i].into(),
            Self::Uint16(v) => v[i].into(),
            Self::Uint32(v) => v[i].into(),
            Self::Uint64(v) => v[i].into(),
            Self::Int8(v) => v[i].into(),
            Self::Int16(v) => v[i].into(),
            Self::Int32(v) => v[i].into(),
            Self::Int64(v) => v[i].into(),
            Self::Fp16(v) => float_json(f64::from(v[i].to_f32())),
            Self::Fp32(v) => float_json(shortest_f32(v[i])),
            Self::Fp64(v) => float_json(v[i]),
            Self::Bytes(v) => Value::String(String::from_utf8_lossy(&v[i]).into_owned()),
        }
    }
}

/// The double whose shortest decimal form is the f32's shortest form (`0.1f32` -> `0.1`, not
/// `0.10000000149011612`); parsing it back as f32 gives the same f32.
fn shortest_f32(x: f32) -> f64 {
    if !x.is_finite() {
        return f64::from(x);
    }
    x.to_string().parse().unwrap_or(f64::from(x))
}

/// JSON has no NaN or infinity: they are written as null.
fn float_json(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// Why a tensor could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TensorError {
    /// The element count does not match the shape.
    #[error("shape {shape:?} holds {expected} elements, got {got}")]
    Count {
        /// The shape.
        shape: Vec<usize>,
        /// Elements the shape holds.
        expected: usize,
        /// Elements given.
        got: usize,
    },
    /// The shape's element count does not fit in memory's address range.
    #[error("shape {0:?} is too large")]
    TooLarge(Vec<usize>),
    /// An element does not fit the type, or the nesting is not rectangular.
    #[error("{0}")]
    Element(String),
}

/// A tensor: its shape and its elements in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Dimensions, outermost first; `[]` for a scalar.
    pub shape: Vec<usize>,
    /// Elements, as many as the shape holds.
    pub data: TensorData,
}

/// The number of elements of `shape`, or `None` on overflow.
pub fn element_count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

impl Tensor {
    /// A tensor of `shape` and `data`, checking that the counts agree.
    pub fn new(shape: Vec<usize>, data: TensorData) -> Result<Self, TensorError> {
        let expected = element_count(&shape).ok_or_else(|| TensorError::TooLarge(shape.clone()))?;
        if expected != data.len() {
            return Err(TensorError::Count {
                shape,
                expected,
                got: data.len(),
            });
        }
        Ok(Self { shape, data })
    }

    /// The element type.
    pub fn datatype(&self) -> DataType {
        self.data.datatype()
    }

    /// A tensor of `datatype` and `shape` from the protocol's JSON `data`: flat, or nested in any way
    /// whose leaves in order are the elements.
    pub fn from_json_data(datatype: DataType, shape: Vec<usize>, data: &Value) -> Result<Self, TensorError> {
        let expected = element_count(&shape).ok_or_else(|| TensorError::TooLarge(shape.clone()))?;
        // The capacity is bounded by the JSON's own size, not by a shape the caller may have inflated.
        let mut out = TensorData::with_capacity(datatype, expected.min(leaf_hint(data)));
        flatten(data, &mut out, 0, "")?;
        Self::new(shape, out)
    }

    /// A tensor of `datatype` from a nested JSON array whose nesting gives the shape (`[[1, 2], [3,
    /// 4]]` is `[2, 2]`; a bare number is a scalar); ragged nesting is refused, naming the place.
    pub fn from_nested_json(datatype: DataType, value: &Value) -> Result<Self, TensorError> {
        let mut shape = Vec::new();
        let mut probe = value;
        while let Value::Array(items) = probe {
            if shape.len() >= MAX_DEPTH {
                return Err(TensorError::Element(format!(
                    "is nested deeper than {MAX_DEPTH} levels"
                )));
            }
            shape.push(items.len());
            match items.first() {
                Some(first) => probe = first,
                None => break,
            }
        }
        let mut out = TensorData::with_capacity(datatype, leaf_hint(value));
        check_nested(value, &shape, &mut out, &mut String::new())?;
        Self::new(shape, out)
    }

    /// The elements as a nested JSON array of the tensor's shape (a bare value for a scalar).
    pub fn to_nested_json(&self) -> Value {
        let mut next = 0;
        nest(&self.data, &self.shape, &mut next)
    }

    /// The elements as a flat JSON array, the protocol's usual `data`.
    pub fn to_flat_json(&self) -> Value {
        Value::Array((0..self.data.len()).map(|i| self.data.json_at(i)).collect())
    }
}

/// How many leaves a JSON value could hold at most, as an allocation bound.
fn leaf_hint(value: &Value) -> usize {
    match value {
        Value::Array(items) => items
            .len()
            .saturating_mul(items.first().map_or(1, leaf_hint))
            .min(1 << 20),
        _ => 1,
    }
}

fn flatten(value: &Value, out: &mut TensorData, depth: usize, at: &str) -> Result<(), TensorError> {
    match value {
        Value::Array(items) if depth < MAX_DEPTH => items
            .iter()
            .enumerate()
            .try_for_each(|(i, item)| flatten(item, out, depth + 1, &format!("{at}[{i}]"))),
        Value::Array(_) => Err(TensorError::Element(format!(
            "is nested deeper than {MAX_DEPTH} levels"
        ))),
        leaf => out
            .push_json(leaf)
            .map_err(|expected| element_error(at, out.datatype(), expected, leaf)),
    }
}

fn check_nested(value: &Value, shape: &[usize], out: &mut TensorData, at: &mut String) -> Result<(), TensorError> {
    match (shape.split_first(), value) {
        (Some((&len, rest)), Value::Array(items)) if items.len() == len => {
            let mark = at.len();
            for (i, item) in items.iter().enumerate() {
                at.truncate(mark);
                at.push_str(&format!("[{i}]"));
                check_nested(item, rest, out, at)?;
            }
            at.truncate(mark);
            Ok(())
        }
        (Some((&len, _)), Value::Array(items)) => Err(TensorError::Element(format!(
            "is ragged: `{at}` has {} items where its siblings have {len}",
            items.len()
        ))),
        (Some((&len, _)), _) => Err(TensorError::Element(format!(
            "is ragged: `{at}` is a single value where a list of {len} was expected"
        ))),
        (None, Value::Array(_)) => Err(TensorError::Element(format!(
            "is ragged: `{at}` is a list where its siblings hold single values"
        ))),
        (None, leaf) => out
            .push_json(leaf)
            .map_err(|expected| element_error(at, out.datatype(), expected, leaf)),
    }
}

fn element_error(at: &str, datatype: DataType, expected: &str, got: &Value) -> TensorError {
    let got = match got {
        Value::Null => "null".to_owned(),
        Value::String(_) => "a string".to_owned(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    };
    TensorError::Element(format!("element `{at}` must be {expected} ({datatype}), got {got}"))
}

fn nest(data: &TensorData, shape: &[usize], next: &mut usize) -> Value {
    match shape.split_first() {
        None => {
            let value = data.json_at(*next);
            *next += 1;
            value
        }
        Some((&len, rest)) => Value::Array((0..len).map(|_| nest(data, rest, next)).collect()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nested_json_gives_the_shape_and_round_trips() {
        let t = Tensor::from_nested_json(DataType::Fp32, &json!([[0.1, 2], [3, 4.5]])).expect("tensor");
        assert_eq!(t.shape, vec![2, 2]);
        assert_eq!(t.data, TensorData::Fp32(vec![0.1, 2.0, 3.0, 4.5]));
        assert_eq!(t.to_nested_json(), json!([[0.1, 2.0], [3.0, 4.5]]));
        assert_eq!(t.to_flat_json(), json!([0.1, 2.0, 3.0, 4.5]));
        let scalar = Tensor::from_nested_json(DataType::Int64, &json!(7)).expect("scalar");
        assert_eq!((scalar.shape.clone(), scalar.to_nested_json()), (vec![], json!(7)));
    }

    #[test]
    fn ragged_and_out_of_range_elements_are_named() {
        let err = Tensor::from_nested_json(DataType::Fp32, &json!([[1, 2], [3]])).expect_err("ragged");
        assert!(err.to_string().contains("`[1]` has 1 items"), "{err}");
        let err = Tensor::from_nested_json(DataType::Uint8, &json!([1, 256])).expect_err("range");
        assert!(err.to_string().contains("element `[1]`"), "{err}");
        let err = Tensor::from_json_data(DataType::Int32, vec![2], &json!([1, "x"])).expect_err("type");
        assert!(err.to_string().contains("an integer"), "{err}");
    }

    #[test]
    fn flat_data_must_match_the_shape_and_huge_shapes_are_refused_before_allocating() {
        let ok = Tensor::from_json_data(DataType::Bool, vec![1, 2], &json!([[true], [false]])).expect("nested data");
        assert_eq!(ok.data, TensorData::Bool(vec![true, false]));
        let err = Tensor::from_json_data(DataType::Fp64, vec![3], &json!([1.0])).expect_err("count");
        assert_eq!(
            err,
            TensorError::Count {
                shape: vec![3],
                expected: 3,
                got: 1
            }
        );
        let err = Tensor::from_json_data(DataType::Fp64, vec![usize::MAX, 2], &json!([1.0])).expect_err("overflow");
        assert!(matches!(err, TensorError::TooLarge(_)));
        let err = Tensor::from_json_data(DataType::Fp64, vec![1 << 40], &json!([1.0])).expect_err("count");
        assert!(matches!(err, TensorError::Count { got: 1, .. }));
    }
}
