//! How values, types, formats and limits are written in messages: "an integer", "a date such as
//! 2024-01-31", `90` rather than `90.0`, and which two items of an array repeat.

use std::collections::HashMap;
use std::fmt::Write as _;

use jsonschema::error::TypeKind;
use serde_json::Value;

pub(super) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) fn describe_type(expected: &str) -> &str {
    match expected {
        "boolean" => "a boolean",
        "string" => "a string",
        "array" => "an array",
        "object" => "an object",
        "number" => "a number",
        "integer" => "an integer",
        other => other,
    }
}

/// The types a schema's `type` keyword lists, in its order: "a string or null".
pub(super) fn types_in_schema(wanted: &Value) -> String {
    match wanted {
        Value::String(t) => describe_type(t).to_owned(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(describe_type)
            .collect::<Vec<_>>()
            .join(" or "),
        other => other.to_string(),
    }
}

pub(super) fn type_names(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Single(t) => describe_type(t.as_str()).to_owned(),
        TypeKind::Multiple(ts) => ts
            .iter()
            .map(|t| describe_type(t.as_str()))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

pub(super) fn format_words(format: &str) -> String {
    match format {
        "date-time" => "a date-time such as 2024-01-31T12:00:00Z".to_owned(),
        "date" => "a date such as 2024-01-31".to_owned(),
        "time" => "a time such as 12:00:00Z".to_owned(),
        "duration" => "a duration such as P1DT2H".to_owned(),
        "email" | "idn-email" => "an email address".to_owned(),
        "uri" | "iri" => "an absolute URI such as https://example.com/".to_owned(),
        "uri-reference" | "iri-reference" => "a URI reference".to_owned(),
        "uuid" => "a UUID such as 123e4567-e89b-12d3-a456-426614174000".to_owned(),
        "ipv4" => "an IPv4 address".to_owned(),
        "ipv6" => "an IPv6 address".to_owned(),
        "hostname" | "idn-hostname" => "a host name".to_owned(),
        "regex" => "a regular expression".to_owned(),
        other => format!("in the `{other}` format"),
    }
}

/// A limit as written: `90`, not `90.0`.
pub(super) fn number(limit: &Value) -> String {
    limit.as_f64().map_or_else(|| limit.to_string(), float)
}

pub(super) fn float(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

pub(super) fn chars(value: &Value) -> usize {
    value.as_str().map_or(0, |s| s.chars().count())
}

pub(super) fn len(value: &Value) -> usize {
    match value {
        Value::Array(items) => items.len(),
        Value::Object(fields) => fields.len(),
        _ => 0,
    }
}

/// The first two positions of equal items, equal as JSON Schema counts it (`1` equals `1.0`).
pub(super) fn repeated(value: &Value) -> Option<(usize, usize)> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, item) in value.as_array()?.iter().enumerate() {
        let mut key = String::new();
        canonical(item, &mut key);
        if let Some(first) = seen.get(&key) {
            return Some((*first, index));
        }
        seen.insert(key, index);
    }
    None
}

/// A text that is the same for equal JSON values: object keys sorted, integral numbers as integers.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e15 => {
                let _ = write!(out, "{}", f as i64);
            }
            _ => {
                let _ = write!(out, "{n}");
            }
        },
        Value::Array(items) => {
            out.push('[');
            for item in items {
                canonical(item, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::Object(fields) => {
            let mut keys: Vec<&String> = fields.keys().collect();
            keys.sort();
            out.push('{');
            for key in keys {
                let _ = write!(out, "{key:?}:");
                canonical(&fields[key.as_str()], out);
                out.push(',');
            }
            out.push('}');
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}
