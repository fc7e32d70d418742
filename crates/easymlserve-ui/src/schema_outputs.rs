//! The outputs of a generated GUI: one component per response field, chosen from the response JSON
//! Schema (numbers, text, booleans, tables for arrays of objects, plots for the two series shapes,
//! images for the `{"dtype", "shape", "image"}` envelope, JSON for the rest) or from the field's
//! `x-easymlserve-widget` override, and the conversion of the answer into output values. The rules are
//! listed in `docs/generated-gui.md`.

use serde_json::Value;

use easymlserve_core::{main_type, resolve};

use super::envelope::decode;
use super::schema_inputs::{label_of, literals};
use super::schema_rich::{self, Rich};
use super::widget::{Side, Widget};
use super::{Output, OutputValue, Plot, Series, Table, UiError, parse_timestamp};

/// Names of the x array of a series, in the order they are looked for.
pub const X_KEYS: &[&str] = &["time", "timestamp", "date", "x"];
/// Names of the series name in an array of series records.
pub const NAME_KEYS: &[&str] = &["model", "name", "label", "series"];
/// Preferred names of the y array in a series record (else its first numeric array).
pub const Y_KEYS: &[&str] = &["values", "value", "y", "energy"];

/// How a response value is shown.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape {
    Text,
    Bool,
    Number,
    Table,
    Json,
    /// `{x: [...], y1: [numbers], y2: [numbers]}`: one line per y array.
    SeriesObject {
        x: String,
        ys: Vec<(String, String)>,
    },
    /// `[{name, x: [...], y: [numbers]}, ...]`: one line per record.
    SeriesRecords {
        name: String,
        x: String,
        y: String,
    },
    Image,
    /// The request's image envelope (`over` names its field; `None`: the whole request) with this
    /// label envelope drawn over it in colours.
    LabelOverlay {
        over: Option<String>,
    },
    /// A label, gallery, annotated image or Markdown (`schema_rich.rs`).
    Rich(Rich),
    /// Sound: a base64 WAV/FLAC string or the `{"sample_rate", "samples"}` envelope (`schema_media.rs`).
    Audio,
    Hidden,
}

/// One output, where its value comes from (`None`: the whole response) and how it is shown.
#[derive(Debug, Clone)]
pub(crate) struct Shown {
    pub output: Output,
    pub source: Option<String>,
    pub shape: Shape,
}

/// The outputs for a response schema (whose `$ref`s point into itself).
pub(crate) fn plan(schema: &Value) -> Result<Vec<Shown>, UiError> {
    let root = resolve(schema, schema);
    if let Some(w) = Widget::of(root, "", Side::Response)? {
        return Ok(vec![shown("response", root, schema, None, Some(w))?]);
    }
    let properties = root.get("properties").and_then(Value::as_object);
    match properties {
        _ if is_envelope(root, schema) => Ok(vec![shown("image", root, schema, None, None)?]),
        _ if series_object(root, schema).is_some() => Ok(vec![shown("plot", root, schema, None, None)?]),
        Some(properties) if !properties.is_empty() => properties
            .iter()
            .map(|(name, property)| {
                let field = resolve(property, schema);
                let widget = match Widget::of(property, name, Side::Response)? {
                    Some(w) => Some(w),
                    None => Widget::of(field, name, Side::Response)?,
                };
                shown(name, field, schema, Some(name.clone()), widget)
            })
            .filter(|s| {
                !matches!(
                    s,
                    Ok(Shown {
                        shape: Shape::Hidden,
                        ..
                    })
                )
            })
            .collect(),
        _ => Ok(vec![Shown {
            output: Output::json("response", "Response"),
            source: None,
            shape: Shape::Json,
        }]),
    }
}

fn shown(
    name: &str,
    field: &Value,
    root: &Value,
    source: Option<String>,
    widget: Option<Widget>,
) -> Result<Shown, UiError> {
    let label = widget
        .as_ref()
        .and_then(|w| w.text("label"))
        .map_or_else(|| label_of(name, field), str::to_owned);
    let natural = natural_shape(field, root);
    let shape = match widget.as_ref().map(|w| w.name.as_str()) {
        None => natural,
        Some("text") => Shape::Text,
        Some("number") => Shape::Number,
        Some("table") => Shape::Table,
        Some("json") => Shape::Json,
        Some("image") => Shape::Image,
        Some("hidden") => Shape::Hidden,
        Some("audio") => Shape::Audio,
        Some(_) if let Some(rich) = widget.as_ref().and_then(schema_rich::from_widget) => Shape::Rich(rich),
        Some("label_overlay") => Shape::LabelOverlay {
            over: widget.as_ref().and_then(|w| w.text("over")).map(str::to_owned),
        },
        Some(_plot) => {
            let w = widget.as_ref().map(|w| (w.text("x"), w.texts("y"), w.text("name")));
            match (natural, w) {
                (_, Some((Some(x), Some(ys), None))) => Shape::SeriesObject {
                    x: x.to_owned(),
                    ys: ys.into_iter().map(|y| (y.clone(), y)).collect(),
                },
                (_, Some((Some(x), Some(ys), Some(n)))) if ys.len() == 1 => Shape::SeriesRecords {
                    name: n.to_owned(),
                    x: x.to_owned(),
                    y: ys[0].clone(),
                },
                (shape @ (Shape::SeriesObject { .. } | Shape::SeriesRecords { .. }), _) => shape,
                _ => {
                    return Err(UiError::field(
                        name,
                        format!(
                            "response field `{name}`: a plot needs a series shape (see docs/generated-gui.md) or the options `x` and `y`"
                        ),
                    ));
                }
            }
        }
    };
    let mut output = match &shape {
        Shape::Number => Output::number(name, label),
        Shape::Text | Shape::Bool => Output::text(name, label),
        Shape::Table => Output::table(name, label),
        Shape::SeriesObject { .. } | Shape::SeriesRecords { .. } => Output::plot(name, label),
        Shape::Image | Shape::LabelOverlay { .. } => Output::image(name, label),
        Shape::Json | Shape::Hidden => Output::json(name, label),
        Shape::Rich(rich) => schema_rich::output(rich, name, label),
        Shape::Audio => Output::audio(name, label),
    };
    let w = widget.as_ref();
    if let Some(unit) = w.and_then(|w| w.text("unit")) {
        output = output.unit(unit);
    }
    if let Some(digits) = w.and_then(|w| w.number("precision")) {
        output = output.precision(digits.clamp(0.0, 12.0) as u8);
    }
    if let Some(d) = w
        .and_then(|w| w.text("description"))
        .or_else(|| field.get("description").and_then(Value::as_str))
    {
        output = output.description(d);
    }
    Ok(Shown { output, source, shape })
}

fn natural_shape(field: &Value, root: &Value) -> Shape {
    if literals(field).is_some() {
        return Shape::Text;
    }
    if is_envelope(field, root) {
        return Shape::Image;
    }
    if let Some((x, ys)) = series_object(field, root) {
        return Shape::SeriesObject { x, ys };
    }
    if let Some(rich) = schema_rich::natural(field, root) {
        return Shape::Rich(rich);
    }
    match main_type(field) {
        "string" => Shape::Text,
        "boolean" => Shape::Bool,
        "integer" | "number" => Shape::Number,
        "array" => {
            let items = field.get("items").map(|i| resolve(i, root)).unwrap_or(&Value::Null);
            if let Some((name, x, y)) = series_record(items, root) {
                Shape::SeriesRecords { name, x, y }
            } else if items
                .get("properties")
                .and_then(Value::as_object)
                .is_some_and(|p| !p.is_empty())
            {
                Shape::Table
            } else {
                Shape::Json
            }
        }
        _ => Shape::Json,
    }
}

fn property<'a>(schema: &'a Value, key: &str, root: &'a Value) -> Option<&'a Value> {
    schema.get("properties")?.get(key).map(|p| resolve(p, root))
}

fn items_type<'a>(array: &'a Value, root: &'a Value) -> &'a str {
    if main_type(array) != "array" {
        return "";
    }
    array.get("items").map_or("", |i| main_type(resolve(i, root)))
}

fn numeric_array(array: &Value, root: &Value) -> bool {
    matches!(items_type(array, root), "number" | "integer")
}

/// The image envelope: an object with `dtype`, `shape` (array) and `image` (string).
pub(crate) fn is_envelope(schema: &Value, root: &Value) -> bool {
    let (dtype, shape, image) = (
        property(schema, "dtype", root),
        property(schema, "shape", root),
        property(schema, "image", root),
    );
    dtype.is_some() && shape.is_some_and(|s| main_type(s) == "array") && image.is_some_and(|i| main_type(i) == "string")
}

/// An x array (`time`, ... of strings or numbers) and one or more other numeric arrays.
fn series_object(schema: &Value, root: &Value) -> Option<(String, Vec<(String, String)>)> {
    let properties = schema.get("properties")?.as_object()?;
    let x = X_KEYS.iter().find(|k| {
        property(schema, k, root).is_some_and(|p| matches!(items_type(p, root), "string" | "number" | "integer"))
    })?;
    let ys: Vec<(String, String)> = properties
        .iter()
        .filter(|(k, p)| k.as_str() != *x && numeric_array(resolve(p, root), root))
        .map(|(k, p)| (k.clone(), label_of(k, resolve(p, root))))
        .collect();
    (!ys.is_empty()).then(|| ((*x).to_owned(), ys))
}

/// A series record: a name (`model`, `name`, ...), an x array and a numeric y array.
fn series_record(schema: &Value, root: &Value) -> Option<(String, String, String)> {
    let name = NAME_KEYS
        .iter()
        .find(|k| property(schema, k, root).is_some_and(|p| main_type(p) == "string" || literals(p).is_some()))?;
    let (x, ys) = series_object(schema, root)?;
    let y = Y_KEYS
        .iter()
        .find_map(|k| ys.iter().find(|(f, _)| f == k))
        .unwrap_or(&ys[0])
        .0
        .clone();
    Some(((*name).to_owned(), x, y))
}

/// The output value of one shown output, from the request and the response.
pub(crate) fn present(s: &Shown, request: &Value, response: &Value) -> Result<Option<OutputValue>, UiError> {
    let value = match &s.source {
        Some(field) => match response.get(field) {
            Some(Value::Null) | None => return Ok(None),
            Some(v) => v,
        },
        None => response,
    };
    let name = s.output.name.as_str();
    Ok(Some(match &s.shape {
        Shape::Hidden => return Ok(None),
        Shape::Rich(rich) => schema_rich::present(rich, name, request, value)?,
        Shape::Audio => crate::schema_media::present_audio(name, value)?,
        Shape::Text => OutputValue::Text(match value {
            Value::String(t) => t.clone(),
            other => other.to_string(),
        }),
        Shape::Bool => OutputValue::Text(if value.as_bool() == Some(true) { "yes" } else { "no" }.to_owned()),
        Shape::Number => match value.as_f64() {
            Some(x) => OutputValue::Number(x),
            None => OutputValue::Text(value.to_string()),
        },
        Shape::Json => OutputValue::Json(value.clone()),
        Shape::Table => OutputValue::Table(table(value)),
        Shape::SeriesObject { x, ys } => {
            let xs = x_values(value.get(x), name)?;
            let mut plot = Plot::new(&s.output.label).labels(crate::schema_inputs::humanize(x), "");
            if xs.1 {
                plot = plot.time_axis();
            }
            for (field, label) in ys {
                plot = plot.series(series(label, &xs.0, value.get(field)));
            }
            OutputValue::Plot(plot)
        }
        Shape::SeriesRecords { name: key, x, y } => {
            let mut plot = Plot::new(&s.output.label);
            for record in value.as_array().into_iter().flatten() {
                let xs = x_values(record.get(x), name)?;
                if xs.1 {
                    plot = plot.time_axis();
                }
                let label = match record.get(key) {
                    Some(Value::String(t)) => t.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                plot = plot.series(series(&label, &xs.0, record.get(y)));
            }
            OutputValue::Plot(plot.labels(crate::schema_inputs::humanize(x), crate::schema_inputs::humanize(y)))
        }
        Shape::Image => OutputValue::Image(decode(value, name)?.to_display()),
        Shape::LabelOverlay { over } => {
            let base = match over {
                Some(field) => request.get(field).unwrap_or(&Value::Null),
                None => request,
            };
            let picture = decode(base, name)?;
            let labels = decode(value, name)?;
            if (labels.width, labels.height) != (picture.width, picture.height) {
                return Err(UiError::general(format!(
                    "`{name}`: the labels are {}x{} but the image is {}x{}",
                    labels.width, labels.height, picture.width, picture.height
                )));
            }
            let ids: Vec<u32> = labels
                .wide
                .iter()
                .step_by(usize::from(labels.channels))
                .copied()
                .collect();
            OutputValue::Image(picture.to_display().with_labels(&ids))
        }
    }))
}

fn series(label: &str, x: &[f64], y: Option<&Value>) -> Series {
    let ys: Vec<Option<f64>> = y
        .and_then(Value::as_array)
        .map(|a| a.iter().map(Value::as_f64).collect())
        .unwrap_or_default();
    let n = ys.len().min(x.len());
    let mut s = Series::line(label, x[..n].to_vec(), Vec::new());
    s.y = ys[..n].to_vec();
    s
}

/// The x values as numbers, and whether they are timestamps (milliseconds since the epoch).
fn x_values(x: Option<&Value>, output: &str) -> Result<(Vec<f64>, bool), UiError> {
    let items = x.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let time = items.first().is_some_and(Value::is_string);
    let xs = items
        .iter()
        .map(|v| match v {
            Value::String(t) => parse_timestamp(t)
                .map(|ms| ms as f64)
                .ok_or_else(|| UiError::general(format!("`{output}`: `{t}` is not a date and time"))),
            other => other
                .as_f64()
                .ok_or_else(|| UiError::general(format!("`{output}`: `{other}` is not a number"))),
        })
        .collect::<Result<_, _>>()?;
    Ok((xs, time))
}

fn table(value: &Value) -> Table {
    let rows = value.as_array().map(Vec::as_slice).unwrap_or_default();
    let mut columns: Vec<String> = Vec::new();
    for row in rows {
        for key in row.as_object().into_iter().flat_map(|o| o.keys()) {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    let cell = |v: Option<&Value>| match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(t)) => t.clone(),
        Some(other) => other.to_string(),
    };
    let rows = rows
        .iter()
        .map(|r| columns.iter().map(|c| cell(r.get(c))).collect())
        .collect();
    Table::new(columns, rows)
}
