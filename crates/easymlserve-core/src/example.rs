//! Builds a plausible example value from a JSON Schema, for services that do not give one: the
//! OpenAPI document and the docs page always show a request that passes validation.

use serde_json::{Map, Value};

const MAX_DEPTH: usize = 16;

/// An example instance of `schema`; `$ref`s resolve against `root`.
pub fn example_from_schema(schema: &Value, root: &Value) -> Value {
    build(schema, root, 0)
}

fn build(schema: &Value, root: &Value, depth: usize) -> Value {
    let Some(schema) = schema.as_object() else {
        return Value::Null;
    };
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    for key in ["default", "const"] {
        if let Some(value) = schema.get(key) {
            return value.clone();
        }
    }
    if let Some(first) = first_of(schema, "examples").or_else(|| first_of(schema, "enum")) {
        return first.clone();
    }
    if let Some(target) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|p| root.pointer(p))
    {
        return build(target, root, depth + 1);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        let non_null = schema.get(key).and_then(Value::as_array).and_then(|options| {
            options
                .iter()
                .find(|o| o.get("type").and_then(Value::as_str) != Some("null"))
        });
        if let Some(option) = non_null {
            return build(option, root, depth + 1);
        }
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ => "",
    };
    let bound = schema.get("minimum").or_else(|| schema.get("maximum")).cloned();
    match ty {
        "string" => Value::String("text".to_owned()),
        "integer" => bound.unwrap_or(Value::from(0)),
        "number" => bound.unwrap_or(Value::from(0.0)),
        "boolean" => Value::Bool(false),
        "array" => {
            let n = schema.get("minItems").and_then(Value::as_u64).unwrap_or(1).clamp(1, 8);
            let item = schema
                .get("items")
                .map_or(Value::Null, |items| build(items, root, depth + 1));
            Value::Array(vec![item; n as usize])
        }
        "object" => {
            let mut out = Map::new();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, sub) in properties {
                    out.insert(name.clone(), build(sub, root, depth + 1));
                }
            }
            Value::Object(out)
        }
        _ => Value::Null,
    }
}

fn first_of<'a>(schema: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    schema
        .get(key)
        .and_then(Value::as_array)
        .and_then(|values| values.first())
}
