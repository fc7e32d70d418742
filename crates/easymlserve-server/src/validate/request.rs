//! Turns request bytes into a typed request: malformed JSON, schema violations and type errors are told
//! apart so the server can answer 400 or 422 with the field named.

use serde::de::DeserializeOwned;
use serde_json::{Number, Value};

use super::{Invalid, Validator};

/// Why a request body could not become a typed request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The body is not JSON (400).
    #[error("the request body is not valid JSON: {0}")]
    Malformed(String),
    /// The body is JSON but a field is missing, of the wrong type or out of range (422).
    #[error("{}", .0.message)]
    Invalid(Invalid),
}

impl RequestError {
    /// The path of the field concerned, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid(invalid) if !invalid.path.is_empty() => Some(&invalid.path),
            _ => None,
        }
    }
}

/// Parses `body` as JSON, validates it against `validator` and deserializes it into `T`.
pub fn parse_request<T: DeserializeOwned>(validator: &Validator, body: &[u8]) -> Result<T, RequestError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| RequestError::Malformed(e.to_string()))?;
    from_value(validator, value)
}

/// Validates an already parsed JSON value and deserializes it into `T`.
pub fn from_value<T: DeserializeOwned>(validator: &Validator, value: Value) -> Result<T, RequestError> {
    validator.validate(&value).map_err(RequestError::Invalid)?;
    deserialize(value)
}

/// Deserializes a value that was already validated into `T`, naming the field when serde refuses it.
///
/// JSON Schema counts `3.0` as an integer, serde's integer types do not: when deserializing fails and
/// the value holds integral floats, they are written as integers and deserializing is tried again, so
/// a request that matches the published schema is accepted.
pub fn deserialize<T: DeserializeOwned>(value: Value) -> Result<T, RequestError> {
    // The retry needs the value again: keep a copy only when it could help, so the usual path moves
    // the strings into `T` (a base64 image of megabytes) instead of copying them.
    let retry = has_integral_float(&value).then(|| value.clone());
    let first = match serde_path_to_error::deserialize(value) {
        Ok(typed) => return Ok(typed),
        Err(err) => err,
    };
    if let Some(mut integral) = retry {
        integral_floats_to_integers(&mut integral);
        if let Ok(typed) = serde_path_to_error::deserialize(integral) {
            return Ok(typed);
        }
    }
    let path = first.path().to_string();
    let path = if path == "." { String::new() } else { path };
    let inner = first.into_inner().to_string();
    let message = if path.is_empty() {
        format!("the request body is invalid: {inner}")
    } else {
        format!("`{path}`: {inner}")
    };
    Err(RequestError::Invalid(Invalid { path, message }))
}

/// The integer a float without a fraction stands for, when it fits an `i64` or `u64` exactly.
fn as_integer(n: &Number) -> Option<Number> {
    // Beyond 2^53 a float no longer tells which integer was written: leave it as it is.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let f = n
        .as_f64()
        .filter(|f| n.is_f64() && f.fract() == 0.0 && f.abs() <= EXACT)?;
    Some(if f < 0.0 {
        Number::from(f as i64)
    } else {
        Number::from(f as u64)
    })
}

/// Whether `value` holds a float that [`integral_floats_to_integers`] would rewrite.
fn has_integral_float(value: &Value) -> bool {
    match value {
        Value::Number(n) => as_integer(n).is_some(),
        Value::Array(items) => items.iter().any(has_integral_float),
        Value::Object(map) => map.values().any(has_integral_float),
        _ => false,
    }
}

/// Rewrites every float without a fraction that fits an `i64` or `u64` exactly as an integer.
fn integral_floats_to_integers(value: &mut Value) {
    match value {
        Value::Number(n) => {
            if let Some(integer) = as_integer(n) {
                *n = integer;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        Value::Object(map) => map.values_mut().for_each(integral_floats_to_integers),
        _ => {}
    }
}
