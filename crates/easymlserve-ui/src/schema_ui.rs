//! `SchemaUi`: a GUI for a service without a hand-written `Ui`, generated from its request JSON Schema
//! (enum -> dropdown, bounded number -> slider, bool -> checkbox, array of enum -> checkbox group,
//! string -> text box, anything else -> JSON editor); the response is shown as formatted JSON.

use serde_json::{Map, Value};

use easymlserve_core::{main_type, resolve};

use super::{Input, InputKind, InputValue, InputValues, Output, OutputValue, OutputValues, Ui, UiError};

/// A UI built at run time from a request schema.
#[derive(Debug, Clone)]
pub struct SchemaUi {
    title: String,
    description: String,
    inputs: Vec<Input>,
    /// How to turn each input back into JSON, by input name.
    encodings: Vec<(String, Encoding)>,
    /// The whole body is one JSON editor (the schema is not an object with properties).
    whole_body: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Text,
    Integer,
    Number,
    Bool,
    Choices,
    Json,
}

impl SchemaUi {
    /// Builds the form for `schema` (whose `$ref`s point into itself).
    pub fn from_schema(title: impl Into<String>, description: impl Into<String>, schema: &Value) -> Self {
        let mut ui = Self {
            title: title.into(),
            description: description.into(),
            inputs: Vec::new(),
            encodings: Vec::new(),
            whole_body: false,
        };
        let root = resolve(schema, schema);
        let properties = root.get("properties").and_then(Value::as_object);
        let Some(properties) = properties.filter(|p| !p.is_empty()) else {
            ui.whole_body = true;
            ui.inputs
                .push(Input::json("body", "Request (JSON)").description("The whole request body, as JSON."));
            ui.encodings.push(("body".to_owned(), Encoding::Json));
            return ui;
        };
        let required: Vec<&str> = root
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (name, property) in properties {
            let (input, encoding) = input_for(
                name,
                resolve(property, schema),
                schema,
                required.contains(&name.as_str()),
            );
            ui.inputs.push(input);
            ui.encodings.push((name.clone(), encoding));
        }
        ui
    }
}

/// The allowed values of an enum-like schema: `enum`, or `oneOf`/`anyOf` of `const`s.
fn literals(schema: &Value) -> Option<Vec<String>> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values.iter().map(|v| v.as_str().map(str::to_owned)).collect();
    }
    let options = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)?;
    options
        .iter()
        .map(|o| o.get("const").and_then(Value::as_str).map(str::to_owned))
        .collect()
}

fn humanize(name: &str) -> String {
    let spaced = name.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn input_for(name: &str, schema: &Value, root: &Value, required: bool) -> (Input, Encoding) {
    let label = schema
        .get("title")
        .and_then(Value::as_str)
        .map_or_else(|| humanize(name), str::to_owned);
    let default = schema.get("default");
    let number = |key: &str| schema.get(key).and_then(Value::as_f64);
    let (mut input, encoding) = if let Some(choices) = literals(schema) {
        let mut input = Input::single_choice(name, label, choices);
        if let Some(d) = default.and_then(Value::as_str) {
            input = input.default_value(d);
        }
        (input, Encoding::Text)
    } else {
        match main_type(schema) {
            "boolean" => (
                Input::checkbox(name, label).default_value(default.and_then(Value::as_bool).unwrap_or(false)),
                Encoding::Bool,
            ),
            ty @ ("integer" | "number") => {
                let integer = ty == "integer";
                let mut input = match (number("minimum"), number("maximum")) {
                    (Some(lo), Some(hi)) if hi > lo => {
                        let step = if integer { 1.0 } else { (hi - lo) / 100.0 };
                        Input::range(name, label, lo, hi, step)
                    }
                    (lo, hi) => {
                        let mut input = Input::number(name, label, integer);
                        if let InputKind::Number { min, max, .. } = &mut input.kind {
                            (*min, *max) = (lo, hi);
                        }
                        input
                    }
                };
                if let Some(d) = default.and_then(Value::as_f64) {
                    input = input.default_value(d);
                }
                (input, if integer { Encoding::Integer } else { Encoding::Number })
            }
            "string" => {
                let mut input = Input::text(name, label);
                if let Some(d) = default.and_then(Value::as_str) {
                    input = input.default_value(d);
                }
                (input, Encoding::Text)
            }
            "array" => match schema.get("items").map(|items| resolve(items, root)).and_then(literals) {
                Some(choices) => {
                    let mut input = Input::multiple_choice(name, label, choices);
                    if let Some(d) = default.and_then(Value::as_array) {
                        input = input.default_value(
                            d.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect::<Vec<_>>(),
                        );
                    }
                    (input, Encoding::Choices)
                }
                None => (json_input(name, label, default), Encoding::Json),
            },
            _ => (json_input(name, label, default), Encoding::Json),
        }
    };
    input.description = schema.get("description").and_then(Value::as_str).map(str::to_owned);
    if !required {
        input = input.optional();
    }
    (input, encoding)
}

fn json_input(name: &str, label: String, default: Option<&Value>) -> Input {
    let input = Input::json(name, format!("{label} (JSON)"));
    match default {
        Some(d) => input.default_value(d.to_string()),
        None => input,
    }
}

impl Ui for SchemaUi {
    type Request = Value;
    type Response = Value;

    fn title(&self) -> String {
        self.title.clone()
    }

    fn description(&self) -> String {
        self.description.clone()
    }

    fn inputs(&self) -> Vec<Input> {
        self.inputs.clone()
    }

    fn outputs(&self) -> Vec<Output> {
        vec![Output::json("response", "Response")]
    }

    fn prepare_request(&self, inputs: &InputValues) -> Result<Value, UiError> {
        let mut body = Map::new();
        for (name, encoding) in &self.encodings {
            let value = match (inputs.get(name), encoding) {
                (None | Some(InputValue::Empty), _) => continue,
                (Some(InputValue::Text(t)), Encoding::Json) => {
                    serde_json::from_str(t).map_err(|e| UiError::field(name, format!("not valid JSON: {e}")))?
                }
                (Some(InputValue::Text(t)), _) => Value::String(t.clone()),
                (Some(InputValue::Number(x)), Encoding::Integer) => Value::from(x.round() as i64),
                (Some(InputValue::Number(x)), _) => Value::from(*x),
                (Some(InputValue::Bool(b)), _) => Value::Bool(*b),
                (Some(InputValue::Choices(c)), _) => Value::from(c.clone()),
                (Some(_), _) => return Err(UiError::field(name, "this field takes no file")),
            };
            if self.whole_body {
                return Ok(value);
            }
            body.insert(name.clone(), value);
        }
        Ok(Value::Object(body))
    }

    fn process_response(&self, _request: &Value, response: Value) -> Result<OutputValues, UiError> {
        Ok(OutputValues::new().with("response", OutputValue::Json(response)))
    }
}
