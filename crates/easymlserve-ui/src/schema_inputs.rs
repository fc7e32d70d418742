//! The inputs of a generated GUI: one widget per request field, chosen from the field's JSON Schema
//! (type, `enum`, bounds, `multipleOf`, `default`, `maxLength`, `format`, `title`, `description`) or
//! from its `x-easymlserve-widget` override, and the way each widget's value goes back into the
//! request (`schema_encode.rs`). The rules are listed in `docs/generated-gui.md`.

use serde_json::{Map, Value};

use easymlserve_core::{main_type, resolve};

use self::fills::{checked_fills, csv_binding};
use super::widget::{Side, WIDGET_KEY, Widget};
use super::{Input, InputKind, UiError};

mod fills;

/// Strings up to this `maxLength` get one line; longer ones (and `text_long`) a text area.
pub const LONG_TEXT_FROM: u64 = 200;
/// A bounded integer becomes a slider only up to this many steps; beyond, a number field.
pub const MAX_SLIDER_STEPS: f64 = 1000.0;

/// How one input's value goes back into the request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Encoding {
    Text,
    DateTime,
    Integer,
    Number,
    Bool,
    Choices,
    Json,
    NumberList {
        integer: bool,
    },
    TextList,
    /// An uploaded image, sent as the `{"dtype", "shape", "image"}` envelope.
    ImageEnvelope,
    /// A dataframe's rows, as an array of objects (`schema_media.rs`).
    Records,
    /// Decoded audio as a base64 16-bit WAV string.
    AudioWav,
    /// Decoded audio as the mono `{"sample_rate", "samples"}` envelope.
    AudioEnvelope,
    /// A time-series CSV: its times fill the first field, its value columns the others.
    Fills(Vec<String>),
    /// No widget: this constant, if any, is sent.
    Constant(Option<Value>),
}

/// Where an input's value lands.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    Field(String),
    Body,
}

/// One input and how it is encoded.
#[derive(Debug, Clone)]
pub(crate) struct Binding {
    pub input: Option<Input>,
    pub name: String,
    pub target: Target,
    pub encoding: Encoding,
}

/// The inputs for a request schema (whose `$ref`s point into itself).
pub(crate) fn bindings(schema: &Value) -> Result<Vec<Binding>, UiError> {
    let root = resolve(schema, schema);
    let root_widget = Widget::of(root, "", Side::Request)?;
    let properties = root.get("properties").and_then(Value::as_object);
    if let Some(w) = root_widget.as_ref().filter(|w| w.name == "image") {
        let label = w.text("label").unwrap_or("Image").to_owned();
        let input = described(
            Input::image_file("image", label),
            w.text("description").or(text(root, "description")),
        );
        return Ok(vec![binding(input, "image", Target::Body, Encoding::ImageEnvelope)]);
    }
    let Some(properties) = properties.filter(|p| !p.is_empty()) else {
        let input = Input::json("body", "Request (JSON)").description("The whole request body, as JSON.");
        return Ok(vec![binding(input, "body", Target::Body, Encoding::Json)]);
    };
    let mut out = Vec::new();
    // Each filled field and the input that fills it; filled fields get no widget of their own.
    let mut filled: Vec<(String, String)> = Vec::new();
    if let Some(w) = root_widget {
        if w.name != "time_series_csv" {
            return Err(UiError::field(
                WIDGET_KEY,
                format!(
                    "the request: widget `{}` applies to a field, not the whole request",
                    w.name
                ),
            ));
        }
        let csv = w.text("name").unwrap_or("csv");
        let fills = checked_fills(&w, "", properties, &mut filled, csv)?;
        if properties.contains_key(csv) && !fills.iter().any(|f| f == csv) {
            return Err(UiError::field(
                WIDGET_KEY,
                format!(
                    "the request: the CSV input is named `{csv}`, like a request field it does not fill; set `name`"
                ),
            ));
        }
        out.push(csv_binding(csv, &w, fills));
    }
    let required: Vec<&str> = root
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut fields = Vec::with_capacity(properties.len());
    for (name, property) in properties {
        let field = resolve(property, schema);
        // An override may sit on the property itself (next to a `$ref`) or on the type it refers to.
        let widget = match Widget::of(property, name, Side::Request)? {
            Some(w) => Some(w),
            None => Widget::of(field, name, Side::Request)?,
        };
        if let Some(w) = widget.as_ref().filter(|w| w.name == "time_series_csv") {
            checked_fills(w, name, properties, &mut filled, name)?;
        }
        fields.push((name, field, widget));
    }
    for (name, field, widget) in fields {
        match filled.iter().find(|(f, _)| f == name) {
            Some((_, by)) if by != name => {
                if widget.as_ref().is_some_and(|w| w.name == "time_series_csv") {
                    return Err(UiError::field(
                        name,
                        format!(
                            "request field `{name}`: it is filled by the CSV `{by}`, so it cannot have a CSV of its own"
                        ),
                    ));
                }
                continue;
            }
            _ => {}
        }
        out.push(input_for(
            name,
            field,
            schema,
            required.contains(&name.as_str()),
            widget,
        )?);
    }
    Ok(out)
}

fn binding(input: Input, name: &str, target: Target, encoding: Encoding) -> Binding {
    Binding {
        input: Some(input),
        name: name.to_owned(),
        target,
        encoding,
    }
}

fn text<'a>(schema: &'a Value, key: &str) -> Option<&'a str> {
    schema.get(key).and_then(Value::as_str)
}

fn described(input: Input, description: Option<&str>) -> Input {
    match description {
        Some(d) => input.description(d),
        None => input,
    }
}

/// The allowed values of an enum-like schema: `enum`, or `oneOf`/`anyOf` of `const`s.
pub(crate) fn literals(schema: &Value) -> Option<Vec<String>> {
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

/// `max_power` as "Max power".
pub(crate) fn humanize(name: &str) -> String {
    let spaced = name.replace(['_', '-'], " ");
    let mut chars = spaced.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The label of a field: its `title`, else its name made readable.
pub(crate) fn label_of(name: &str, schema: &Value) -> String {
    text(schema, "title").map_or_else(|| humanize(name), str::to_owned)
}

/// The widget a field's type calls for when no override names one.
fn natural_widget(field: &Value, root: &Value) -> &'static str {
    if literals(field).is_some() {
        return "dropdown";
    }
    match main_type(field) {
        "boolean" => "checkbox",
        "integer" | "number" => "number",
        "string" if text(field, "format") == Some("date-time") => "date_time",
        "string"
            if field
                .get("maxLength")
                .and_then(Value::as_u64)
                .is_some_and(|n| n > LONG_TEXT_FROM) =>
        {
            "text_long"
        }
        "string" => "text",
        "array" => {
            let items = field.get("items").map(|i| resolve(i, root));
            match items {
                Some(items) if literals(items).is_some() => "checkboxes",
                Some(items) if matches!(main_type(items), "number" | "integer") => "number_list",
                Some(items) if main_type(items) == "string" && items.get("format").is_none() => "text_list",
                _ if super::schema_media::record_columns(field, root).is_some() => "dataframe",
                _ => "json",
            }
        }
        _ => "json",
    }
}

fn input_for(
    name: &str,
    field: &Value,
    root: &Value,
    required: bool,
    widget: Option<Widget>,
) -> Result<Binding, UiError> {
    let options = widget.clone().map(|w| w.options).unwrap_or_default();
    let w = widget.unwrap_or_else(|| Widget {
        name: natural_widget(field, root).to_owned(),
        options: Map::new(),
    });
    let label = w.text("label").map_or_else(|| label_of(name, field), str::to_owned);
    let default = options.get("default").or_else(|| field.get("default"));
    let target = Target::Field(name.to_owned());
    let opt = |key: &str| options.get(key).and_then(Value::as_f64);
    let (mut input, encoding) = match w.name.as_str() {
        "hidden" => {
            let value = options.get("value").cloned();
            return Ok(Binding {
                input: None,
                name: name.to_owned(),
                target,
                encoding: Encoding::Constant(value),
            });
        }
        "time_series_csv" => {
            // `bindings` checked the fills already; this reads them again for the binding.
            let fills = w.texts("fills").unwrap_or_else(|| vec![name.to_owned()]);
            return Ok(csv_binding(name, &w, fills));
        }
        "image" => (Input::image_file(name, label), Encoding::ImageEnvelope),
        "camera" => (Input::camera(name, label), Encoding::ImageEnvelope),
        "dataframe" => super::schema_media::dataframe(name, label, field, root, default)?,
        "audio" => super::schema_media::audio(name, label, field)?,
        "dropdown" => {
            let choices = w.texts("choices").or_else(|| literals(field)).unwrap_or_default();
            let input = Input::single_choice(name, label, choices);
            (with_text_default(input, default), Encoding::Text)
        }
        "checkboxes" => {
            let items = field.get("items").map(|i| resolve(i, root)).unwrap_or(&Value::Null);
            let choices = w.texts("choices").or_else(|| literals(items)).unwrap_or_default();
            let mut input = Input::multiple_choice(name, label, choices);
            if let Some(d) = default.and_then(Value::as_array) {
                let picked: Vec<String> = d.iter().filter_map(Value::as_str).map(str::to_owned).collect();
                input = input.default_value(picked);
            }
            (input, Encoding::Choices)
        }
        "checkbox" => {
            let input = Input::checkbox(name, label).default_value(default.and_then(Value::as_bool).unwrap_or(false));
            (input, Encoding::Bool)
        }
        kind @ ("number" | "slider") => {
            let integer = main_type(field) == "integer";
            let (lo, hi, step) = bounds(field, integer);
            let (lo, hi, step) = (opt("min").or(lo), opt("max").or(hi), opt("step").or(step));
            let slider = match (lo, hi) {
                (Some(lo), Some(hi)) if hi > lo => {
                    let step = step.unwrap_or(if integer { 1.0 } else { (hi - lo) / 100.0 });
                    let fits = !integer || (hi - lo) / step <= MAX_SLIDER_STEPS;
                    (kind == "slider" || fits).then_some((lo, hi, step))
                }
                _ => None,
            };
            let mut input = match slider {
                Some((lo, hi, step)) => Input::range(name, label, lo, hi, step),
                None if kind == "slider" => {
                    return Err(UiError::field(
                        name,
                        format!(
                            "request field `{name}`: a slider needs a minimum and a maximum (in the schema or as `min`/`max`)"
                        ),
                    ));
                }
                None => {
                    let mut input = Input::number(name, label, integer);
                    if let InputKind::Number { min, max, step: s, .. } = &mut input.kind {
                        (*min, *max, *s) = (lo, hi, step);
                    }
                    input
                }
            };
            if let Some(d) = default.and_then(Value::as_f64) {
                input = input.default_value(d);
            }
            (input, if integer { Encoding::Integer } else { Encoding::Number })
        }
        "date_time" => {
            let input = Input::text(name, label).placeholder("2024-01-31T12:00:00Z");
            (with_text_default(input, default), Encoding::DateTime)
        }
        "text" => (with_text_default(Input::text(name, label), default), Encoding::Text),
        "text_long" => (
            with_text_default(Input::text_long(name, label), default),
            Encoding::Text,
        ),
        "number_list" => {
            let items = field.get("items").map(|i| resolve(i, root)).unwrap_or(&Value::Null);
            let integer = main_type(items) == "integer";
            let input = Input::text_long(name, format!("{label} (numbers)")).placeholder("1, 2.5, 3");
            let joined = default
                .and_then(Value::as_array)
                .map(|d| d.iter().map(Value::to_string).collect::<Vec<_>>().join(", "));
            (
                with_text_default(input, joined.map(Value::String).as_ref()),
                Encoding::NumberList { integer },
            )
        }
        "text_list" => {
            let input = Input::text_long(name, format!("{label} (one per line)"));
            let joined = default
                .and_then(Value::as_array)
                .map(|d| d.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("\n"));
            (
                with_text_default(input, joined.map(Value::String).as_ref()),
                Encoding::TextList,
            )
        }
        _ => {
            let input = Input::json(name, format!("{label} (JSON)"));
            let input = match default {
                Some(d) => input.default_value(d.to_string()),
                None => input,
            };
            (input, Encoding::Json)
        }
    };
    input.description = w
        .text("description")
        .or_else(|| text(field, "description"))
        .map(str::to_owned);
    if let Some(p) = w.text("placeholder") {
        input = input.placeholder(p);
    }
    if !required {
        input = input.optional();
    }
    Ok(binding(input, name, target, encoding))
}

fn with_text_default(input: Input, default: Option<&Value>) -> Input {
    match default.and_then(Value::as_str) {
        Some(d) => input.default_value(d),
        None => input,
    }
}

/// The lowest and highest allowed value and the step of a number schema: `minimum`/`maximum`, the
/// exclusive forms (moved one step inwards for integers), and `multipleOf` (integers: step 1).
fn bounds(field: &Value, integer: bool) -> (Option<f64>, Option<f64>, Option<f64>) {
    let get = |key: &str| field.get(key).and_then(Value::as_f64);
    let step = get("multipleOf").or(integer.then_some(1.0));
    let inward = if integer { step.unwrap_or(1.0) } else { 0.0 };
    let lo = get("minimum").or_else(|| get("exclusiveMinimum").map(|x| x + inward));
    let hi = get("maximum").or_else(|| get("exclusiveMaximum").map(|x| x - inward));
    (lo, hi, step)
}
