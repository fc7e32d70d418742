//! Checks a JSON value against the JSON Schema generated from a request type.
//!
//! One schema is the single source of truth for validation, the OpenAPI document and generated forms.
//! This covers the keywords schemars emits (type, enum, const, ranges, lengths, items, properties,
//! required, additionalProperties, $ref, allOf/anyOf/oneOf) and names the failing field in every message.

use std::fmt;

use serde_json::{Map, Value};

/// Nesting depth past which a schema is treated as broken (guards against `$ref` cycles).
const MAX_DEPTH: usize = 128;

/// A value that does not fit the schema: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Path of the offending field, such as `models[1]`; empty for the body itself.
    pub path: String,
    /// What is wrong, naming the field in backticks.
    pub message: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A compiled-once request schema that validates JSON values.
#[derive(Debug, Clone)]
pub struct Validator {
    root: Value,
}

impl Validator {
    /// Wraps a JSON Schema (a root schema whose `$ref`s point into itself).
    pub fn new(schema: Value) -> Self {
        Self { root: schema }
    }

    /// The schema for `T`, as schemars generates it.
    pub fn for_type<T: schemars::JsonSchema>() -> Self {
        Self::new(crate::schema_for::<T>())
    }

    /// The schema this validator checks against.
    pub fn schema(&self) -> &Value {
        &self.root
    }

    /// Checks `instance`, returning the first problem found.
    pub fn validate(&self, instance: &Value) -> Result<(), Invalid> {
        let mut path = Vec::new();
        self.check(&self.root, instance, &mut path, 0)
    }

    fn check(&self, schema: &Value, inst: &Value, path: &mut Vec<Seg>, depth: usize) -> Result<(), Invalid> {
        if depth > MAX_DEPTH {
            return Err(invalid(path, "the request schema nests too deeply to check".to_owned()));
        }
        let schema = match schema {
            Value::Bool(true) => return Ok(()),
            Value::Bool(false) => {
                return Err(invalid(path, format!("{} is not allowed", name(path))));
            }
            Value::Object(schema) => schema,
            _ => return Ok(()),
        };
        if let Some(Value::String(reference)) = schema.get("$ref") {
            let target = reference
                .strip_prefix('#')
                .and_then(|pointer| self.root.pointer(pointer))
                .ok_or_else(|| invalid(path, format!("the request schema has an unknown reference {reference}")))?;
            self.check(target, inst, path, depth + 1)?;
        }
        if let Some(Value::Array(all)) = schema.get("allOf") {
            for sub in all {
                self.check(sub, inst, path, depth + 1)?;
            }
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(options)) = schema.get(key) {
                self.check_any(options, inst, path, depth)?;
            }
        }
        check_type(schema, inst, path)?;
        check_enum(schema, inst, path)?;
        match inst {
            Value::Number(_) => check_number(schema, inst, path),
            Value::String(s) => check_string(schema, s, path),
            Value::Array(items) => self.check_array(schema, items, path, depth),
            Value::Object(fields) => self.check_object(schema, fields, path, depth),
            Value::Bool(_) | Value::Null => Ok(()),
        }
    }

    /// Passes if one option fits; otherwise reports the error that got furthest into the value, or,
    /// when every option is a literal (a documented enum), the list of allowed values.
    fn check_any(&self, options: &[Value], inst: &Value, path: &mut Vec<Seg>, depth: usize) -> Result<(), Invalid> {
        let literals: Option<Vec<&Value>> = options
            .iter()
            .map(literal_values)
            .collect::<Option<Vec<_>>>()
            .map(|v| v.concat());
        if let Some(allowed) = literals {
            if allowed.contains(&inst) {
                return Ok(());
            }
            let listed: Vec<String> = allowed.iter().map(|v| v.to_string()).collect();
            return Err(invalid(
                path,
                format!("{} must be one of {}, got {inst}", name(path), listed.join(", ")),
            ));
        }
        let mut best: Option<Invalid> = None;
        for option in options {
            match self.check(option, inst, path, depth + 1) {
                Ok(()) => return Ok(()),
                Err(e) => {
                    if best.as_ref().is_none_or(|b| e.path.len() > b.path.len()) {
                        best = Some(e);
                    }
                }
            }
        }
        best.map_or(Ok(()), Err)
    }

    fn check_array(
        &self,
        schema: &Map<String, Value>,
        items: &[Value],
        path: &mut Vec<Seg>,
        depth: usize,
    ) -> Result<(), Invalid> {
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
            if (items.len() as u64) < min {
                return Err(invalid(
                    path,
                    format!("{} needs at least {min} items, got {}", name(path), items.len()),
                ));
            }
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
            if items.len() as u64 > max {
                return Err(invalid(
                    path,
                    format!("{} takes at most {max} items, got {}", name(path), items.len()),
                ));
            }
        }
        let prefix = schema
            .get("prefixItems")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for (index, item) in items.iter().enumerate() {
            let sub = prefix.get(index).or_else(|| schema.get("items"));
            if let Some(sub) = sub {
                path.push(Seg::Index(index));
                let result = self.check(sub, item, path, depth + 1);
                path.pop();
                result?;
            }
        }
        Ok(())
    }

    fn check_object(
        &self,
        schema: &Map<String, Value>,
        fields: &Map<String, Value>,
        path: &mut Vec<Seg>,
        depth: usize,
    ) -> Result<(), Invalid> {
        if let Some(Value::Array(required)) = schema.get("required") {
            for key in required.iter().filter_map(Value::as_str) {
                if !fields.contains_key(key) {
                    path.push(Seg::Key(key.to_owned()));
                    let err = invalid(path, format!("{} is required", name(path)));
                    path.pop();
                    return Err(err);
                }
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        for (key, value) in fields {
            let sub = properties
                .and_then(|p| p.get(key))
                .or_else(|| schema.get("additionalProperties"));
            if let Some(sub) = sub {
                path.push(Seg::Key(key.clone()));
                let result = match sub {
                    Value::Bool(false) => Err(invalid(path, format!("{} is not a known field", name(path)))),
                    _ => self.check(sub, value, path, depth + 1),
                };
                path.pop();
                result?;
            }
        }
        Ok(())
    }
}

/// The values an option allows when it is a plain `const` or `enum` schema.
fn literal_values(option: &Value) -> Option<Vec<&Value>> {
    let option = option.as_object()?;
    if let Some(value) = option.get("const") {
        return Some(vec![value]);
    }
    option
        .get("enum")
        .and_then(Value::as_array)
        .map(|values| values.iter().collect())
}

/// One step of a path into a JSON value.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn render(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(key) if out.is_empty() => out.push_str(key),
            Seg::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Seg::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

/// How a message refers to the field: `` `models[1]` ``, or "the request body" at the root.
fn name(path: &[Seg]) -> String {
    if path.is_empty() {
        "the request body".to_owned()
    } else {
        format!("`{}`", render(path))
    }
}

fn invalid(path: &[Seg], message: String) -> Invalid {
    Invalid {
        path: render(path),
        message,
    }
}

fn type_name(value: &Value) -> &'static str {
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

fn fits_type(expected: &str, value: &Value) -> bool {
    match expected {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0 && f.is_finite())
        }
        _ => true,
    }
}

fn describe_type(expected: &str) -> &str {
    match expected {
        "null" => "null",
        "boolean" => "a boolean",
        "string" => "a string",
        "array" => "an array",
        "object" => "an object",
        "number" => "a number",
        "integer" => "an integer",
        other => other,
    }
}

fn check_type(schema: &Map<String, Value>, inst: &Value, path: &[Seg]) -> Result<(), Invalid> {
    let expected: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    if expected.iter().any(|t| fits_type(t, inst)) {
        return Ok(());
    }
    let wanted: Vec<&str> = expected.iter().map(|t| describe_type(t)).collect();
    Err(invalid(
        path,
        format!(
            "{} must be {}, got {}",
            name(path),
            wanted.join(" or "),
            type_name(inst)
        ),
    ))
}

fn check_enum(schema: &Map<String, Value>, inst: &Value, path: &[Seg]) -> Result<(), Invalid> {
    if let Some(Value::Array(allowed)) = schema.get("enum") {
        if !allowed.contains(inst) {
            let listed: Vec<String> = allowed.iter().map(Value::to_string).collect();
            return Err(invalid(
                path,
                format!("{} must be one of {}, got {inst}", name(path), listed.join(", ")),
            ));
        }
    }
    if let Some(expected) = schema.get("const") {
        if expected != inst {
            return Err(invalid(path, format!("{} must be {expected}, got {inst}", name(path))));
        }
    }
    Ok(())
}

fn check_number(schema: &Map<String, Value>, inst: &Value, path: &[Seg]) -> Result<(), Invalid> {
    let Some(x) = inst.as_f64() else {
        return Ok(());
    };
    let bound = |key: &str| schema.get(key).and_then(Value::as_f64);
    let shown = inst.to_string();
    if let Some(min) = bound("minimum").filter(|min| x < *min) {
        return Err(invalid(
            path,
            format!("{} must be at least {}, got {shown}", name(path), fmt_num(min)),
        ));
    }
    if let Some(max) = bound("maximum").filter(|max| x > *max) {
        return Err(invalid(
            path,
            format!("{} must be at most {}, got {shown}", name(path), fmt_num(max)),
        ));
    }
    if let Some(min) = bound("exclusiveMinimum").filter(|min| x <= *min) {
        return Err(invalid(
            path,
            format!("{} must be greater than {}, got {shown}", name(path), fmt_num(min)),
        ));
    }
    if let Some(max) = bound("exclusiveMaximum").filter(|max| x >= *max) {
        return Err(invalid(
            path,
            format!("{} must be less than {}, got {shown}", name(path), fmt_num(max)),
        ));
    }
    Ok(())
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

fn check_string(schema: &Map<String, Value>, s: &str, path: &[Seg]) -> Result<(), Invalid> {
    let len = s.chars().count() as u64;
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64).filter(|min| len < *min) {
        return Err(invalid(
            path,
            format!("{} needs at least {min} characters, got {len}", name(path)),
        ));
    }
    if let Some(max) = schema.get("maxLength").and_then(Value::as_u64).filter(|max| len > *max) {
        return Err(invalid(
            path,
            format!("{} takes at most {max} characters, got {len}", name(path)),
        ));
    }
    Ok(())
}
