//! Moves the definitions of run-time JSON Schemas into the OpenAPI document's components.
//!
//! A spec's request and response schemas are whole root schemas (schemars and pydantic v2 keep their
//! named types under `$defs`, pydantic v1 under `definitions`), but OpenAPI wants named schemas under
//! `#/components/schemas/`. Each root becomes a named component too when it is a named object, so the
//! document reads as it would have had it been generated from the types directly.

use serde_json::{Map, Value};

/// Where components live in the document.
const PREFIX: &str = "#/components/schemas/";

/// Collects named schemas, renaming a definition whose name is taken by a different schema.
#[derive(Debug, Default)]
pub(crate) struct Components {
    schemas: Map<String, Value>,
}

impl Components {
    /// Lifts `root` (its definitions, and itself when it is a named object) into the components and
    /// returns the schema to use in its place: a `$ref`, or the inline schema.
    pub(crate) fn lift(&mut self, root: &Value, fallback_name: &str) -> Value {
        let Some(object) = root.as_object() else {
            return root.clone();
        };
        let mut root = object.clone();
        root.remove("$schema");
        let mut renames = Vec::new();
        for key in ["$defs", "definitions"] {
            let Some(Value::Object(defs)) = root.remove(key) else {
                continue;
            };
            for (name, schema) in defs {
                let placed = self.place(&name, schema);
                renames.push((format!("#/{key}/{name}"), format!("{PREFIX}{placed}")));
            }
        }
        let named = is_named_object(&root);
        let title = root.get("title").and_then(Value::as_str).map(sanitize);
        let root_name = named.then(|| title.unwrap_or_else(|| fallback_name.to_owned()));
        if let Some(name) = &root_name {
            renames.push(("#".to_owned(), format!("{PREFIX}{}", self.reserve(name))));
        }
        // Rewrite the references in everything placed from this root, and in the root itself.
        let placed: Vec<String> = renames
            .iter()
            .filter_map(|(_, to)| to.strip_prefix(PREFIX).map(str::to_owned))
            .collect();
        for name in &placed {
            if let Some(schema) = self.schemas.get_mut(name) {
                rewrite_refs(schema, &renames);
            }
        }
        let mut root = Value::Object(root);
        rewrite_refs(&mut root, &renames);
        match root_name {
            Some(_) => {
                let target = renames
                    .iter()
                    .find(|(from, _)| from == "#")
                    .map(|(_, to)| to.clone())
                    .unwrap_or_default();
                if let (Some(name), Value::Object(mut schema)) = (target.strip_prefix(PREFIX), root) {
                    schema.remove("title");
                    self.schemas.insert(name.to_owned(), Value::Object(schema));
                }
                serde_json::json!({ "$ref": target })
            }
            None => root,
        }
    }

    /// Adds a schema of a type the server itself defines (the error body), named `name`.
    pub(crate) fn insert(&mut self, name: &str, schema: Value) -> Value {
        let placed = self.place(name, schema);
        serde_json::json!({ "$ref": format!("{PREFIX}{placed}") })
    }

    /// The collected components.
    pub(crate) fn into_map(self) -> Map<String, Value> {
        self.schemas
    }

    /// Places `schema` under `name`, or under a numbered name when a different schema has it.
    fn place(&mut self, name: &str, schema: Value) -> String {
        let base = sanitize(name);
        let mut candidate = base.clone();
        let mut n = 2;
        loop {
            match self.schemas.get(&candidate) {
                None => {
                    self.schemas.insert(candidate.clone(), schema);
                    return candidate;
                }
                Some(existing) if *existing == schema => return candidate,
                Some(_) => {
                    candidate = format!("{base}{n}");
                    n += 1;
                }
            }
        }
    }

    /// A free name for a root schema, reserved with a placeholder until the root is inserted.
    fn reserve(&mut self, name: &str) -> String {
        let base = sanitize(name);
        let mut candidate = base.clone();
        let mut n = 2;
        while self.schemas.contains_key(&candidate) {
            candidate = format!("{base}{n}");
            n += 1;
        }
        self.schemas.insert(candidate.clone(), Value::Bool(true));
        candidate
    }
}

/// Whether a root schema describes a named object (or a choice of them) rather than a primitive.
fn is_named_object(root: &Map<String, Value>) -> bool {
    let primitive = matches!(
        root.get("type").and_then(Value::as_str),
        Some("string" | "number" | "integer" | "boolean" | "null")
    ) && !root.contains_key("enum");
    let structured = ["properties", "oneOf", "anyOf", "allOf", "enum"]
        .iter()
        .any(|k| root.contains_key(*k))
        || root.get("type").and_then(Value::as_str) == Some("object");
    !primitive && structured
}

/// Component names may hold letters, digits, `.`, `-` and `_` only.
fn sanitize(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "Schema".to_owned()
    } else {
        cleaned
    }
}

/// Rewrites every `$ref` that `renames` maps (whole references, or a reference into a renamed one).
fn rewrite_refs(value: &mut Value, renames: &[(String, String)]) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get_mut("$ref") {
                if let Some((_, to)) = renames.iter().find(|(from, _)| from == reference) {
                    *reference = to.clone();
                } else if let Some((from, to)) = renames
                    .iter()
                    .find(|(from, _)| from != "#" && reference.starts_with(&format!("{from}/")))
                {
                    *reference = format!("{to}{}", &reference[from.len()..]);
                }
            }
            map.values_mut().for_each(|v| rewrite_refs(v, renames));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, renames)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn pydantic_v1_definitions_and_v2_defs_become_components() {
        let mut components = Components::default();
        let v1 = json!({"title": "Req", "type": "object", "properties": {"p": {"$ref": "#/definitions/Point"}},
                        "definitions": {"Point": {"type": "object", "properties": {"x": {"type": "number"}}}}});
        let v2 = json!({"title": "Resp", "type": "object", "properties": {"p": {"$ref": "#/$defs/Point"}},
                        "$defs": {"Point": {"type": "object", "properties": {"y": {"type": "number"}}}}});
        assert_eq!(
            components.lift(&v1, "Request"),
            json!({"$ref": "#/components/schemas/Req"})
        );
        assert_eq!(
            components.lift(&v2, "Response"),
            json!({"$ref": "#/components/schemas/Resp"})
        );
        let map = components.into_map();
        assert_eq!(map["Req"]["properties"]["p"]["$ref"], "#/components/schemas/Point");
        assert_eq!(
            map["Resp"]["properties"]["p"]["$ref"], "#/components/schemas/Point2",
            "a different Point"
        );
        assert!(map["Req"].get("title").is_none());
    }

    #[test]
    fn primitives_stay_inline_and_recursive_roots_point_at_their_component() {
        let mut components = Components::default();
        assert_eq!(
            components.lift(&json!({"title": "double", "type": "number"}), "Request"),
            json!({"type": "number", "title": "double"})
        );
        let tree = json!({"title": "Tree", "type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#"}}}});
        assert_eq!(
            components.lift(&tree, "Request"),
            json!({"$ref": "#/components/schemas/Tree"})
        );
        let map = components.into_map();
        assert_eq!(
            map["Tree"]["properties"]["kids"]["items"]["$ref"],
            "#/components/schemas/Tree"
        );
    }
}
