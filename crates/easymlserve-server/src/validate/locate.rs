//! Narrows a large failing body down to a small failing part before the errors are listed: the crate
//! builds every error of what it checks, so a body of a million bad items would otherwise cost a
//! million errors (hundreds of milliseconds and of megabytes) to refuse.

use jsonschema::ValidatorMap;
use serde_json::Value;

use super::messages::Seg;

/// Bodies of at most this many values are checked whole, so the error chosen is the best of all of
/// them; the errors of such a body take well under a millisecond to build.
const SMALL: usize = 4096;

/// Whether `value` holds more than [`SMALL`] values (counted no further than that).
pub(super) fn is_large(value: &Value) -> bool {
    let mut budget = SMALL;
    !fits(value, &mut budget)
}

fn fits(value: &Value, budget: &mut usize) -> bool {
    let Some(left) = budget.checked_sub(1) else {
        return false;
    };
    *budget = left;
    match value {
        Value::Array(items) => items.iter().all(|item| fits(item, budget)),
        Value::Object(fields) => fields.values().all(|field| fits(field, budget)),
        _ => true,
    }
}

/// A failing part of the body: the pointer of its schema in `parts` (`#/properties/xs/items`), the
/// path to it, and the value itself.
pub(super) struct Part<'v> {
    pub(super) pointer: String,
    pub(super) path: Vec<Seg>,
    pub(super) value: &'v Value,
}

/// Follows the failing schema through `$ref`, `allOf`, `anyOf`, `oneOf`, properties and items, down
/// to a part that is small, or where no single sub-schema fails alone. `instance` fails `root`.
pub(super) fn narrow<'v>(root: &Value, parts: &ValidatorMap, instance: &'v Value) -> Part<'v> {
    let mut part = Part {
        pointer: "#".to_owned(),
        path: Vec::new(),
        value: instance,
    };
    while is_large(part.value) {
        let Some(schema) = root.pointer(&part.pointer[1..]) else {
            break;
        };
        let fails = |pointer: &str, value: &Value| parts.get(pointer).is_some_and(|v| !v.is_valid(value));
        if let Some(target) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .filter(|r| r.starts_with('#'))
        {
            if fails(target, part.value) {
                part.pointer = target.to_owned();
                continue;
            }
        }
        if let Some(pointer) = failing_alternative(root, schema, &part, &fails) {
            part.pointer = pointer;
            continue;
        }
        match failing_child(schema, &part, &fails) {
            Some((pointer, seg, value)) => {
                part.pointer = pointer;
                part.path.push(seg);
                part.value = value;
            }
            None => break,
        }
    }
    part
}

/// A sub-schema of `allOf` that fails, or, when every alternative of `anyOf` or `oneOf` fails, the one
/// whose type fits the value (the first when none says).
fn failing_alternative(
    root: &Value,
    schema: &Value,
    part: &Part<'_>,
    fails: &impl Fn(&str, &Value) -> bool,
) -> Option<String> {
    let pointer = |keyword: &str, index: usize| format!("{}/{keyword}/{index}", part.pointer);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        if let Some(index) = (0..all.len()).find(|i| fails(&pointer("allOf", *i), part.value)) {
            return Some(pointer("allOf", index));
        }
    }
    for keyword in ["anyOf", "oneOf"] {
        let Some(options) = schema.get(keyword).and_then(Value::as_array) else {
            continue;
        };
        if (0..options.len()).all(|i| fails(&pointer(keyword, i), part.value)) {
            let fitting = options.iter().position(|option| type_fits(root, option, part.value));
            return Some(pointer(keyword, fitting.unwrap_or(0)));
        }
    }
    None
}

/// Whether an alternative's `type` (behind one `$ref`) admits the value's type; `false` when it says none.
fn type_fits(root: &Value, option: &Value, value: &Value) -> bool {
    let option = match option.get("$ref").and_then(Value::as_str) {
        Some(target) => target.strip_prefix('#').and_then(|p| root.pointer(p)).unwrap_or(option),
        None => option,
    };
    let admits = |t: &Value| {
        matches!(
            (t.as_str(), value),
            (Some("array"), Value::Array(_)) | (Some("object"), Value::Object(_))
        )
    };
    match option.get("type") {
        Some(Value::Array(types)) => types.iter().any(admits),
        Some(t) => admits(t),
        None => false,
    }
}

/// The first field or item of the value whose own sub-schema fails it.
fn failing_child<'v>(
    schema: &Value,
    part: &Part<'v>,
    fails: &impl Fn(&str, &Value) -> bool,
) -> Option<(String, Seg, &'v Value)> {
    match part.value {
        Value::Object(fields) => fields.iter().find_map(|(key, value)| {
            let pointer = if schema.get("properties").and_then(|p| p.get(key)).is_some() {
                format!("{}/properties/{}", part.pointer, escape(key))
            } else if schema.get("additionalProperties").is_some_and(Value::is_object) {
                format!("{}/additionalProperties", part.pointer)
            } else {
                return None;
            };
            fails(&pointer, value).then(|| (pointer, Seg::Key(key.clone()), value))
        }),
        Value::Array(items) => {
            let prefix = schema.get("prefixItems").and_then(Value::as_array).map_or(0, Vec::len);
            items.iter().enumerate().find_map(|(index, value)| {
                let pointer = if index < prefix {
                    format!("{}/prefixItems/{index}", part.pointer)
                } else if schema.get("items").is_some_and(Value::is_object) {
                    format!("{}/items", part.pointer)
                } else {
                    return None;
                };
                fails(&pointer, value).then_some((pointer, Seg::Index(index), value))
            })
        }
        _ => None,
    }
}

/// A key as a JSON pointer token.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}
