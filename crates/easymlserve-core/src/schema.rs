//! The one place JSON Schemas are generated, so the schema the server validates against, the one in
//! `/api/spec`, the one in the OpenAPI document and the one a generated form is built from agree.
//!
//! schemars marks Rust integer types with a `format` (`uint32`, `int64`, ...) and, for unsigned ones,
//! `minimum: 0`, but gives no upper bound, so `u32` seemed to accept 2^40 and a request that matched
//! the published schema could still fail to deserialize. Every integer schema gets the bounds of its
//! type here.

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema};
use serde_json::Value;

/// Draft 2020-12 settings with integer bounds added; `with` can change them further.
pub fn schema_settings() -> SchemaSettings {
    SchemaSettings::draft2020_12().with_transform(RecursiveTransform(integer_bounds))
}

/// The root schema of `T`, as every part of easymlserve sees it.
pub fn schema_for<T: JsonSchema>() -> Value {
    schema_settings()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

/// Adds `minimum` and `maximum` from an integer schema's `format`, keeping tighter bounds set in code.
fn integer_bounds(schema: &mut Schema) {
    let Some(format) = schema.get("format").and_then(Value::as_str) else {
        return;
    };
    let (min, max): (Value, Value) = match format {
        "uint8" => (0.into(), u8::MAX.into()),
        "uint16" => (0.into(), u16::MAX.into()),
        "uint32" => (0.into(), u32::MAX.into()),
        "uint64" | "uint" => (0.into(), u64::MAX.into()),
        "int8" => (i8::MIN.into(), i8::MAX.into()),
        "int16" => (i16::MIN.into(), i16::MAX.into()),
        "int32" => (i32::MIN.into(), i32::MAX.into()),
        "int64" | "int" => (i64::MIN.into(), i64::MAX.into()),
        _ => return,
    };
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    object.entry("minimum").or_insert(min);
    object.entry("maximum").or_insert(max);
}

/// The schema that describes a value of `schema`: `$ref`s into `root` followed, and an `Option`'s
/// `anyOf`/`oneOf` of one schema and `null` unwrapped. Generated forms and the inference protocol's
/// mapping read field schemas through it.
pub fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
    let mut current = schema;
    for _ in 0..16 {
        if let Some(target) = current
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| root.pointer(p))
        {
            current = target;
            continue;
        }
        let non_null = current
            .get("anyOf")
            .or_else(|| current.get("oneOf"))
            .and_then(Value::as_array)
            .and_then(|options| {
                let rest: Vec<&Value> = options
                    .iter()
                    .filter(|o| o.get("type").and_then(Value::as_str) != Some("null"))
                    .collect();
                (rest.len() == 1 && rest.len() < options.len()).then(|| rest[0])
            });
        match non_null {
            Some(inner) => current = inner,
            None => break,
        }
    }
    current
}

/// The main `type` of a schema: its `type`, or the first non-null one of a list; `""` when none.
pub fn main_type(schema: &Value) -> &str {
    match schema.get("type") {
        Some(Value::String(t)) => t,
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or(""),
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(JsonSchema)]
    #[expect(dead_code, reason = "only its schema is used")]
    struct Sample {
        small: u8,
        count: u32,
        #[schemars(range(max = 10))]
        capped: u64,
        offset: i16,
        items: Vec<u16>,
        ratio: f64,
    }

    #[test]
    fn integers_get_the_bounds_of_their_type() {
        let schema = schema_for::<Sample>();
        let property = |name: &str| schema["properties"][name].clone();
        assert_eq!(
            (
                property("small")["minimum"].clone(),
                property("small")["maximum"].clone()
            ),
            (0.into(), 255.into())
        );
        assert_eq!(property("count")["maximum"], u32::MAX);
        assert_eq!(property("capped")["maximum"], 10, "a bound set in code wins");
        assert_eq!(property("offset")["minimum"], -32768);
        assert_eq!(property("items")["items"]["maximum"], 65535);
        assert!(
            property("ratio").get("maximum").is_none(),
            "floats have no implied bounds"
        );
    }
}
