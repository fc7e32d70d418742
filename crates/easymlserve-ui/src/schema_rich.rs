//! The generated GUI's rich outputs (issue 18): which response shapes become a Label, a Gallery, an
//! AnnotatedImage or a Markdown output, and how their JSON turns into those values. Called from
//! `schema_outputs.rs`; the rules are listed in `docs/generated-gui.md`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use easymlserve_core::{main_type, resolve};

use super::envelope::decode;
use super::schema_outputs::is_envelope;
use super::widget::Widget;
use super::{AnnotatedImage, Annotation, BoundingBox, Classes, Gallery, ImageOutput, Markdown};
use super::{Output, OutputValue, UiError};

/// Names of a class's name in a record, in the order they are looked for.
pub const LABEL_KEYS: &[&str] = &["label", "class", "class_name", "category"];
/// Names of a class's confidence in a record.
pub const SCORE_KEYS: &[&str] = &["confidence", "score", "probability", "prob"];
/// Names of the detections next to an image.
pub const DETECTION_KEYS: &[&str] = &["boxes", "detections", "annotations", "objects"];
/// Names of the caption of a gallery picture.
const CAPTION_KEYS: &[&str] = &["caption", "label", "title", "name"];

/// A rich output shape.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rich {
    Label {
        top_k: Option<usize>,
    },
    Gallery,
    /// `over`: the request field holding the image the detections are drawn on (`Some("")`: the
    /// whole request); `None`: the value carries its own image.
    Annotated {
        over: Option<String>,
    },
    Markdown,
}

/// The shape an override names, when it is one of the rich widgets.
pub(crate) fn from_widget(widget: &Widget) -> Option<Rich> {
    Some(match widget.name.as_str() {
        "label" => Rich::Label {
            top_k: widget.number("top_k").map(|k| k.clamp(1.0, 1000.0) as usize),
        },
        "gallery" => Rich::Gallery,
        "annotated_image" => Rich::Annotated {
            over: widget.text("over").map(str::to_owned),
        },
        "markdown" => Rich::Markdown,
        _ => return None,
    })
}

fn property<'a>(schema: &'a Value, keys: &[&str], root: &'a Value) -> Option<(&'a str, &'a Value)> {
    let properties = schema.get("properties")?.as_object()?;
    keys.iter()
        .find_map(|k| properties.get_key_value(*k))
        .map(|(k, v)| (k.as_str(), resolve(v, root)))
}

/// The rich shape a field has without an override, if any.
pub(crate) fn natural(field: &Value, root: &Value) -> Option<Rich> {
    let markdown = field.get("format").and_then(Value::as_str) == Some("markdown")
        || field.get("contentMediaType").and_then(Value::as_str) == Some("text/markdown");
    match main_type(field) {
        "string" if markdown => Some(Rich::Markdown),
        "array" => {
            let items = resolve(field.get("items")?, root);
            if is_class_record(items, root) {
                Some(Rich::Label { top_k: None })
            } else if is_envelope(items, root)
                || property(items, &["image"], root).is_some_and(|(_, i)| is_envelope(i, root))
                    && property(items, CAPTION_KEYS, root).is_some()
            {
                Some(Rich::Gallery)
            } else {
                None
            }
        }
        "object" => {
            // Probabilities are fractions; a map of integers (counts) stays JSON.
            let numbers = field
                .get("additionalProperties")
                .is_some_and(|a| main_type(resolve(a, root)) == "number");
            let no_properties = field
                .get("properties")
                .and_then(Value::as_object)
                .is_none_or(Map::is_empty);
            let image = property(field, &["image"], root).is_some_and(|(_, i)| is_envelope(i, root));
            let boxes = property(field, DETECTION_KEYS, root).is_some_and(|(_, b)| main_type(b) == "array");
            if numbers && no_properties {
                Some(Rich::Label { top_k: None })
            } else if image && boxes {
                Some(Rich::Annotated { over: None })
            } else {
                None
            }
        }
        _ => None,
    }
}

/// `{label: string, confidence: number}` with at most one more property.
fn is_class_record(items: &Value, root: &Value) -> bool {
    let count = items.get("properties").and_then(Value::as_object).map_or(0, Map::len);
    let label = property(items, LABEL_KEYS, root).is_some_and(|(_, p)| main_type(p) == "string");
    let score = property(items, SCORE_KEYS, root).is_some_and(|(_, p)| matches!(main_type(p), "number" | "integer"));
    label && score && count <= 3
}

/// The output spec of a rich shape.
pub(crate) fn output(rich: &Rich, name: &str, label: String) -> Output {
    match rich {
        Rich::Label { top_k } => {
            let out = Output::label(name, label);
            match top_k {
                Some(k) => out.top_k(*k),
                None => out,
            }
        }
        Rich::Gallery => Output::gallery(name, label),
        Rich::Annotated { .. } => Output::annotated_image(name, label),
        Rich::Markdown => Output::markdown(name, label),
    }
}

/// The value of a rich output from its JSON (and the request, for `over`); `name` names the
/// output in errors.
pub(crate) fn present(rich: &Rich, name: &str, request: &Value, value: &Value) -> Result<OutputValue, UiError> {
    let bad = |why: String| UiError::general(format!("`{name}`: {why}"));
    Ok(match rich {
        Rich::Markdown => OutputValue::Markdown(Markdown::parse(
            value.as_str().ok_or_else(|| bad("expected a Markdown string".into()))?,
        )),
        Rich::Label { .. } => OutputValue::Label(classes(value).map_err(bad)?),
        Rich::Gallery => {
            let items = value
                .as_array()
                .ok_or_else(|| bad("expected a list of pictures".into()))?;
            let mut gallery = Gallery::new();
            for (i, item) in items.iter().enumerate() {
                let (image, caption) = match item.get("image") {
                    Some(image) => (image, first_text(item, CAPTION_KEYS).unwrap_or_default()),
                    None => (item, String::new()),
                };
                gallery = gallery.item(picture(image, &format!("{name}[{i}]"))?, caption);
            }
            OutputValue::Gallery(gallery)
        }
        Rich::Annotated { over } => {
            let (image, boxes) = match over {
                Some(field) if field.is_empty() => (request, value),
                Some(field) => (request.get(field).unwrap_or(&Value::Null), value),
                None => (
                    value.get("image").unwrap_or(&Value::Null),
                    DETECTION_KEYS
                        .iter()
                        .find_map(|k| value.get(*k))
                        .unwrap_or(&Value::Null),
                ),
            };
            let image = decode(image, name)?;
            let mut out = AnnotatedImage::new(image.to_display());
            let list = boxes
                .as_array()
                .ok_or_else(|| bad("expected a list of detections".into()))?;
            for (i, d) in list.iter().enumerate() {
                let at = format!("{name}[{i}]");
                let label = first_text(d, LABEL_KEYS).unwrap_or_else(|| "object".to_owned());
                let mut annotation = Annotation {
                    bbox: bounding_box(d),
                    mask_png: None,
                    score: SCORE_KEYS.iter().find_map(|k| d.get(*k)).and_then(Value::as_f64),
                    label,
                };
                if let Some(mask) = d.get("mask").filter(|m| !m.is_null()) {
                    let mask = decode(mask, &at)?;
                    if (mask.width, mask.height) != (image.width, image.height) {
                        return Err(UiError::general(format!(
                            "`{at}`: the mask is {}x{} but the image is {}x{}",
                            mask.width, mask.height, image.width, image.height
                        )));
                    }
                    let inside: Vec<bool> = mask
                        .wide
                        .iter()
                        .step_by(usize::from(mask.channels))
                        .map(|v| *v != 0)
                        .collect();
                    annotation.mask_png = Annotation::masked("", mask.width, mask.height, &inside).mask_png;
                }
                if annotation.bbox.is_none() && annotation.mask_png.is_none() {
                    return Err(bad(format!(
                        "detection {i} has neither a box (`box` {{x, y, width, height}}, `bbox` [x, y, width, height] or x, y, width, height) nor a `mask`"
                    )));
                }
                out = out.annotation(annotation);
            }
            OutputValue::AnnotatedImage(out)
        }
    })
}

fn first_text(object: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| object.get(*k)).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// `[{label, confidence}]` records, `{class: probability}`, or a list of scores.
fn classes(value: &Value) -> Result<Classes, String> {
    match value {
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                v.as_f64()
                    .map(|c| (k.clone(), c))
                    .ok_or_else(|| format!("the confidence of `{k}` is not a number"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Classes::new),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Number(n) => Ok((i.to_string(), n.as_f64().unwrap_or(f64::NAN))),
                _ => {
                    let label = first_text(item, LABEL_KEYS).ok_or_else(|| format!("class {i} has no `label`"))?;
                    let score = SCORE_KEYS
                        .iter()
                        .find_map(|k| item.get(*k))
                        .and_then(Value::as_f64)
                        .ok_or_else(|| format!("class {i} has no numeric `confidence`"))?;
                    Ok((label, score))
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Classes::new),
        _ => Err("expected a list of {label, confidence} or an object of class: confidence".to_owned()),
    }
}

/// `box`/`bbox` as {x, y, width, height} (or `w`, `h`) or [x, y, width, height], or flat keys.
fn bounding_box(d: &Value) -> Option<BoundingBox> {
    let from_object = |o: &Value| {
        let n = |keys: &[&str]| keys.iter().find_map(|k| o.get(*k)).and_then(Value::as_f64);
        Some(BoundingBox {
            x: n(&["x", "left"])?,
            y: n(&["y", "top"])?,
            width: n(&["width", "w"])?,
            height: n(&["height", "h"])?,
        })
    };
    match d.get("box").or_else(|| d.get("bbox")) {
        Some(Value::Array(a)) if a.len() == 4 => {
            let v: Vec<f64> = a.iter().filter_map(Value::as_f64).collect();
            (v.len() == 4).then(|| BoundingBox {
                x: v[0],
                y: v[1],
                width: v[2],
                height: v[3],
            })
        }
        Some(o @ Value::Object(_)) => from_object(o),
        _ => from_object(d),
    }
}

/// A picture: an image envelope, or a base64 PNG string.
fn picture(value: &Value, at: &str) -> Result<ImageOutput, UiError> {
    match value {
        Value::String(text) => {
            let bytes = STANDARD
                .decode(text.as_bytes())
                .map_err(|e| UiError::general(format!("`{at}`: not base64: {e}")))?;
            ImageOutput::from_png(bytes).map_err(|e| UiError::general(format!("`{at}`: {}", e.message)))
        }
        other => Ok(decode(other, at)?.to_display()),
    }
}
