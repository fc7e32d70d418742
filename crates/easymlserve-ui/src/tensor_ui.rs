//! `TensorUi`: the generated GUI of a tensor model (an ONNX file), built from its tensor signature
//! instead of its JSON Schema: an image upload for an image-shaped input (converted to the model's
//! channels, size and value range), one number field per element of a small fixed-size vector, a JSON
//! editor for other tensors; a classifier's scores as a Label output (its top class names with
//! confidence bars), a single value as a number, anything else as JSON.

use serde_json::{Map, Value};

use super::{Classes, Input, InputValue, InputValues, Output, OutputValue, OutputValues, Ui, UiError};
use easymlserve_core::{ImageLayout, ServiceSpec, TensorSpec};

/// Largest vector shown as separate number fields.
const MAX_NUMBER_FIELDS: usize = 16;
/// Classes shown by the Label output.
const TOP_CLASSES: usize = 5;

/// A GUI generated from a tensor signature.
#[derive(Debug, Clone)]
pub struct TensorUi {
    title: String,
    description: String,
    inputs: Vec<(TensorSpec, Form)>,
    outputs: Vec<(TensorSpec, Show)>,
    example: Option<Value>,
}

#[derive(Debug, Clone)]
enum Form {
    Image(ImageLayout),
    /// One field per element; the fixed dimensions after a leading batch dimension of 1.
    Numbers {
        shape: Vec<usize>,
        batched: bool,
    },
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Show {
    Ranked,
    Number,
    Json,
}

impl TensorUi {
    /// The GUI of `spec`, or `None` when it has no tensor signature.
    pub fn from_spec(spec: &ServiceSpec) -> Option<Self> {
        let tensors = spec.tensors.as_ref()?;
        let inputs = tensors.inputs.iter().map(|t| (t.clone(), form_for(t))).collect();
        let outputs = tensors
            .outputs
            .iter()
            .map(|t| {
                let show = if t.labels.is_some() {
                    Show::Ranked
                } else if fixed_elements(&t.shape) == Some(1) {
                    Show::Number
                } else {
                    Show::Json
                };
                (t.clone(), show)
            })
            .collect();
        Some(Self {
            title: spec.info.name.clone(),
            description: spec.info.description.clone(),
            inputs,
            outputs,
            example: spec.example_request.clone(),
        })
    }
}

/// Elements of a shape when its leading varying dimension is 1 and the rest are fixed.
fn fixed_elements(shape: &[i64]) -> Option<usize> {
    let rest = match shape.split_first() {
        Some((-1, rest)) => rest,
        _ => shape,
    };
    rest.iter()
        .try_fold(1usize, |n, &d| usize::try_from(d).ok().and_then(|d| n.checked_mul(d)))
}

fn form_for(tensor: &TensorSpec) -> Form {
    if let Some(layout) = &tensor.image {
        return Form::Image(layout.clone());
    }
    let numeric = !matches!(tensor.datatype.as_str(), "BYTES" | "BOOL");
    let batched = tensor.shape.first() == Some(&-1);
    let fixed = if batched { &tensor.shape[1..] } else { &tensor.shape[..] };
    let shape: Option<Vec<usize>> = fixed.iter().map(|&d| usize::try_from(d).ok()).collect();
    match shape {
        Some(shape) if numeric && fixed.len() <= 1 && shape.iter().product::<usize>() <= MAX_NUMBER_FIELDS => {
            Form::Numbers { shape, batched }
        }
        _ => Form::Json,
    }
}

fn element_name(tensor: &str, i: usize) -> String {
    format!("{tensor}[{i}]")
}

impl Ui for TensorUi {
    type Request = Value;
    type Response = Value;

    fn title(&self) -> String {
        self.title.clone()
    }

    fn description(&self) -> String {
        self.description.clone()
    }

    fn inputs(&self) -> Vec<Input> {
        let mut out = Vec::new();
        for (tensor, form) in &self.inputs {
            let example = self.example.as_ref().and_then(|e| e.get(&tensor.name));
            match form {
                Form::Image(layout) => {
                    let size = match (layout.width, layout.height) {
                        (Some(w), Some(h)) => format!(", resized to {w} x {h}"),
                        _ => String::new(),
                    };
                    let colour = if layout.channels == 1 { "grey" } else { "RGB" };
                    out.push(
                        Input::image_file(&tensor.name, format!("Image ({})", tensor.name))
                            .description(format!("A PNG, JPEG or TIFF image, converted to {colour}{size}.")),
                    );
                }
                Form::Numbers { shape, batched } => {
                    let flat = example.map(|e| flatten(e, *batched)).unwrap_or_default();
                    let count = shape.iter().product::<usize>();
                    for i in 0..count {
                        let name = element_name(&tensor.name, i);
                        let mut input = Input::number(&name, &name, tensor.datatype.contains("INT"));
                        if let Some(value) = flat.get(i) {
                            input = input.default_value(*value);
                        }
                        out.push(input.description(format!(
                            "Element {i} of the {} tensor `{}`.",
                            tensor.datatype, tensor.name
                        )));
                    }
                }
                Form::Json => {
                    let mut input = Input::json(&tensor.name, format!("{} (JSON)", tensor.name)).description(format!(
                        "{} tensor of shape {:?}, as nested lists.",
                        tensor.datatype, tensor.shape
                    ));
                    if let Some(example) = example {
                        input = input.default_value(example.to_string());
                    }
                    out.push(input);
                }
            }
        }
        out
    }

    fn outputs(&self) -> Vec<Output> {
        self.outputs
            .iter()
            .map(|(tensor, show)| match show {
                Show::Ranked => Output::label(&tensor.name, format!("Top classes ({})", tensor.name))
                    .top_k(TOP_CLASSES)
                    .description("The most likely classes, highest score first."),
                Show::Number => Output::number(&tensor.name, tensor.name.clone()),
                Show::Json => Output::json(&tensor.name, tensor.name.clone()),
            })
            .collect()
    }

    fn prepare_request(&self, inputs: &InputValues) -> Result<Value, UiError> {
        let mut body = Map::new();
        for (tensor, form) in &self.inputs {
            let value = match form {
                Form::Image(layout) => image_tensor(inputs.image(&tensor.name)?, layout),
                Form::Numbers { shape, batched } => {
                    let count = shape.iter().product::<usize>();
                    let mut values = Vec::with_capacity(count);
                    for i in 0..count {
                        let name = element_name(&tensor.name, i);
                        let number = inputs
                            .number(&name)?
                            .ok_or_else(|| UiError::field(&name, "enter a number"))?;
                        values.push(number_json(number, &tensor.datatype));
                    }
                    let mut value = if shape.is_empty() {
                        values.pop().unwrap_or(Value::Null)
                    } else {
                        Value::Array(values)
                    };
                    if *batched {
                        value = Value::Array(vec![value]);
                    }
                    value
                }
                Form::Json => match inputs.get(&tensor.name) {
                    Some(InputValue::Text(text)) => serde_json::from_str(text)
                        .map_err(|e| UiError::field(&tensor.name, format!("not valid JSON: {e}")))?,
                    _ => return Err(UiError::field(&tensor.name, "enter the tensor as JSON nested lists")),
                },
            };
            body.insert(tensor.name.clone(), value);
        }
        Ok(Value::Object(body))
    }

    fn process_response(&self, _: &Value, response: Value) -> Result<OutputValues, UiError> {
        let mut out = OutputValues::new();
        for (tensor, show) in &self.outputs {
            let Some(value) = response.get(&tensor.name) else {
                continue;
            };
            let shown = match show {
                Show::Ranked => ranked(value, tensor.labels.as_deref().unwrap_or_default()),
                Show::Number => match flatten(value, false).first() {
                    Some(x) => OutputValue::Number(*x),
                    None => OutputValue::Json(value.clone()),
                },
                Show::Json => OutputValue::Json(value.clone()),
            };
            out = out.with(tensor.name.clone(), shown);
        }
        Ok(out)
    }
}

fn number_json(x: f64, datatype: &str) -> Value {
    if datatype.contains("INT") {
        Value::from(x.round() as i64)
    } else {
        Value::from(x)
    }
}

/// The numbers of a (nested) JSON value in order; with `batched`, only its first row.
fn flatten(value: &Value, batched: bool) -> Vec<f64> {
    let value = if batched { value.get(0).unwrap_or(value) } else { value };
    let mut out = Vec::new();
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items.iter().rev()),
            other => out.extend(other.as_f64()),
        }
    }
    out
}

/// The first row's scores as the top classes.
fn ranked(scores: &Value, labels: &[String]) -> OutputValue {
    let row = flatten(scores, scores.get(0).is_some_and(Value::is_array));
    OutputValue::Label(Classes::from_scores(&row, labels).top(TOP_CLASSES))
}

/// The image as the model's input tensor `[1, C, H, W]` or `[1, H, W, C]`: converted to its
/// channels, resized to its fixed size, and scaled from 0-255 by the layout's scale and offset.
fn image_tensor(image: &super::ImageValue, layout: &ImageLayout) -> Value {
    let width = layout.width.unwrap_or(image.width).max(1);
    let height = layout.height.unwrap_or(image.height).max(1);
    let to8 = |sample: u16| {
        if image.bit_depth == 16 {
            f32::from(sample) / 257.0
        } else {
            f32::from(sample)
        }
    };
    let pixels = (image.width as usize) * (image.height as usize);
    let n = usize::from(image.channels);
    let rgb = |p: usize| -> [f32; 3] {
        let at = |c: usize| to8(image.data[p * n + c.min(n - 1)]);
        if n >= 3 { [at(0), at(1), at(2)] } else { [at(0); 3] }
    };
    let planes: Vec<Vec<f32>> = if layout.channels == 1 {
        let grey: Vec<f32> = (0..pixels)
            .map(|p| {
                let [r, g, b] = rgb(p);
                if n >= 3 { 0.299 * r + 0.587 * g + 0.114 * b } else { r }
            })
            .collect();
        vec![area_resize(&grey, image.width, image.height, width, height)]
    } else {
        (0..3)
            .map(|c| {
                let plane: Vec<f32> = (0..pixels).map(|p| rgb(p)[c]).collect();
                area_resize(&plane, image.width, image.height, width, height)
            })
            .collect()
    };
    let scale = |x: f32| Value::from(f64::from(x) * layout.scale + layout.offset);
    let (w, h) = (width as usize, height as usize);
    let rows = |plane: &[f32]| -> Value {
        Value::Array(
            (0..h)
                .map(|y| Value::Array(plane[y * w..(y + 1) * w].iter().map(|&x| scale(x)).collect()))
                .collect(),
        )
    };
    let tensor = if layout.channels_first {
        Value::Array(planes.iter().map(|p| rows(p)).collect())
    } else {
        Value::Array(
            (0..h)
                .map(|y| {
                    Value::Array(
                        (0..w)
                            .map(|x| Value::Array(planes.iter().map(|p| scale(p[y * w + x])).collect()))
                            .collect(),
                    )
                })
                .collect(),
        )
    };
    Value::Array(vec![tensor])
}

/// Resizes one plane by averaging the source pixels each target pixel covers (a box filter: what a
/// model trained on block-averaged images, like scikit-learn's digits, expects); enlarging repeats
/// pixels.
fn area_resize(plane: &[f32], from_w: u32, from_h: u32, to_w: u32, to_h: u32) -> Vec<f32> {
    let (fw, fh, tw, th) = (from_w as usize, from_h as usize, to_w as usize, to_h as usize);
    let span = |i: usize, from: usize, to: usize| {
        let start = i * from / to;
        (start, ((i + 1) * from / to).max(start + 1).min(from))
    };
    let mut out = Vec::with_capacity(tw * th);
    for y in 0..th {
        let (y0, y1) = span(y, fh, th);
        for x in 0..tw {
            let (x0, x1) = span(x, fw, tw);
            let mut sum = 0.0;
            for row in y0..y1 {
                sum += plane[row * fw + x0..row * fw + x1].iter().sum::<f32>();
            }
            out.push(sum / ((y1 - y0) * (x1 - x0)) as f32);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::area_resize;

    #[test]
    fn shrinking_averages_blocks_and_enlarging_repeats_pixels() {
        // 4 x 2 -> 2 x 1: each output pixel is the mean of a 2 x 2 block.
        let plane = [0.0, 2.0, 10.0, 10.0, 4.0, 6.0, 20.0, 0.0];
        assert_eq!(area_resize(&plane, 4, 2, 2, 1), vec![3.0, 10.0]);
        assert_eq!(area_resize(&[1.0, 2.0], 2, 1, 4, 1), vec![1.0, 1.0, 2.0, 2.0]);
    }
}
