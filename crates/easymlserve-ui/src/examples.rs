//! Examples to click (issue 18 item 1): a `Ui` lists values and files shipped with the model; a GUI
//! shows them under the form (a thumbnail or the first values) and one click fills every input.
//! A generated GUI takes them from the request schema's `examples` (see `docs/generated-gui.md`).

use std::collections::BTreeMap;
use std::io::Cursor;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::inputs::{Input, InputKind};
use super::schema_inputs::{Binding, Encoding, Target};
use super::values::{FileValue, RawInput};

/// Longest side of an example's thumbnail, in pixels.
pub const THUMBNAIL_SIDE: u32 = 96;

/// Characters of an example's values shown in its summary before it is cut.
const SUMMARY_CHARS: usize = 60;

/// One example: a label and a value for some or all inputs (texts as the form sends them, files
/// with their name and bytes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// What the GUI shows on the example's button.
    pub label: String,
    /// The values, by input name, as a GUI collects them.
    pub values: BTreeMap<String, RawInput>,
}

impl Example {
    /// An example with no values yet.
    pub fn new(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            values: BTreeMap::new(),
        }
    }

    /// The text of a text, number, range, single choice or checkbox (`"true"`) input.
    #[must_use]
    pub fn text(mut self, input: impl Into<String>, value: impl Into<String>) -> Self {
        self.values.insert(input.into(), RawInput::Text(vec![value.into()]));
        self
    }

    /// The chosen options of a multiple choice.
    #[must_use]
    pub fn choices(mut self, input: impl Into<String>, options: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let options = options.into_iter().map(Into::into).collect();
        self.values.insert(input.into(), RawInput::Text(options));
        self
    }

    /// A file for a file input: its name as the user would see it, and its bytes (embedded with
    /// `include_bytes!`, so the file ships inside the binary).
    #[must_use]
    pub fn file(mut self, input: impl Into<String>, name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        let file = FileValue {
            name: name.into(),
            bytes: bytes.into(),
        };
        self.values.insert(input.into(), RawInput::File(file));
        self
    }

    /// The example's values for the form's inputs, as a submission of them would send them.
    pub fn raw(&self) -> BTreeMap<String, RawInput> {
        self.values.clone()
    }

    /// The file of `input`, when the example has one.
    pub fn file_of(&self, input: &str) -> Option<&FileValue> {
        match self.values.get(input) {
            Some(RawInput::File(file)) => Some(file),
            _ => None,
        }
    }

    /// What a GUI needs to list and fill this example, without the files' bytes.
    pub fn spec(&self, inputs: &[Input]) -> ExampleSpec {
        let mut values = BTreeMap::new();
        let mut files = BTreeMap::new();
        for (name, value) in &self.values {
            match value {
                RawInput::Text(texts) => {
                    values.insert(name.clone(), texts.clone());
                }
                RawInput::File(file) => {
                    files.insert(name.clone(), file.name.clone());
                }
                RawInput::Absent => {}
            }
        }
        ExampleSpec {
            label: self.label.clone(),
            summary: summary(&values, &files, inputs),
            thumbnail: self.thumbnail_input(inputs).is_some(),
            values,
            files,
        }
    }

    /// The first image input this example gives a file for.
    fn thumbnail_input(&self, inputs: &[Input]) -> Option<&FileValue> {
        inputs
            .iter()
            .filter(|i| matches!(i.kind, InputKind::ImageFile))
            .find_map(|i| self.file_of(&i.name))
    }

    /// A PNG of at most [`THUMBNAIL_SIDE`] pixels of the example's first image, when it has one that
    /// decodes (TIFF and 16-bit images included, stretched as the image output shows them).
    pub fn thumbnail(&self, inputs: &[Input]) -> Option<Vec<u8>> {
        let file = self.thumbnail_input(inputs)?;
        let shown = super::image::ImageValue::decode(&file.bytes, "thumbnail")
            .ok()?
            .to_display();
        let image = image::load_from_memory_with_format(&shown.png, image::ImageFormat::Png).ok()?;
        let small = image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE);
        let mut out = Cursor::new(Vec::new());
        small.write_to(&mut out, image::ImageFormat::Png).ok()?;
        Some(out.into_inner())
    }
}

/// An example as the GUIs list it (`examples` of `/ui/spec`): label, a one-line summary of its
/// values, the texts per input, the file names per input (the bytes come from
/// `GET /ui/examples/{i}/files/{input}`), and whether `GET /ui/examples/{i}/thumbnail` has a picture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExampleSpec {
    /// What the example's button says.
    pub label: String,
    /// The first values, for the list: `Text: hello · Repeat: 3`.
    #[serde(default)]
    pub summary: String,
    /// The texts of the text inputs, by input name.
    #[serde(default)]
    pub values: BTreeMap<String, Vec<String>>,
    /// The file name of each file input, by input name.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Whether the example has a thumbnail (its first image input's file).
    #[serde(default)]
    pub thumbnail: bool,
}

/// `Label: value · Label: file.csv`, in the order of the inputs, cut after [`SUMMARY_CHARS`].
fn summary(values: &BTreeMap<String, Vec<String>>, files: &BTreeMap<String, String>, inputs: &[Input]) -> String {
    let parts: Vec<String> = inputs
        .iter()
        .filter_map(|input| {
            let shown = match (values.get(&input.name), files.get(&input.name)) {
                (Some(texts), _) => texts.join(", "),
                (None, Some(file)) => file.clone(),
                (None, None) => return None,
            };
            Some(format!("{}: {}", input.label, shown.replace('\n', " ")))
        })
        .collect();
    let text = parts.join(" · ");
    if text.chars().count() <= SUMMARY_CHARS {
        return text;
    }
    let cut: String = text.chars().take(SUMMARY_CHARS - 1).collect();
    format!("{cut}…")
}

/// The form values of a field's example value, as its input sends them; `None` for what a form
/// cannot show as text (an image envelope, a CSV's columns).
pub(crate) fn texts_of(value: &Value, list: ListStyle) -> Option<Vec<String>> {
    let scalar = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match (list, value) {
        (ListStyle::Json, v) => serde_json::to_string_pretty(v).ok().map(|t| vec![t]),
        (ListStyle::Items, Value::Array(items)) => items.iter().map(scalar).collect(),
        (ListStyle::Joined(separator), Value::Array(items)) => {
            let parts: Option<Vec<String>> = items.iter().map(scalar).collect();
            parts.map(|p| vec![p.join(separator)])
        }
        (_, v) => scalar(v).map(|t| vec![t]),
    }
}

/// How a list value goes into a form field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListStyle {
    /// One form value per item (a multiple choice).
    Items,
    /// The items in one text, separated so (`, ` for numbers, a line per text).
    Joined(&'static str),
    /// The whole value as JSON text.
    Json,
}

/// The examples of a generated GUI: each item of the request schema's top-level `examples` (a whole
/// request) as the form values of the inputs bound to its fields; fields a form cannot fill from
/// text (an image, a CSV's columns) are left out.
pub(crate) fn from_request_schema(schema: &Value, bindings: &[Binding]) -> Vec<Example> {
    let Some(items) = schema.get("examples").and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .map(|(i, request)| {
            let mut example = Example::new(format!("Example {}", i + 1));
            for binding in bindings {
                let Some(input) = &binding.input else { continue };
                let value = match &binding.target {
                    Target::Body => Some(request),
                    Target::Field(name) => request.get(name),
                };
                let style = match &binding.encoding {
                    Encoding::Choices => ListStyle::Items,
                    Encoding::NumberList { .. } => ListStyle::Joined(", "),
                    Encoding::TextList => ListStyle::Joined("\n"),
                    Encoding::Json => ListStyle::Json,
                    Encoding::ImageEnvelope | Encoding::Fills(_) | Encoding::Constant(_) => continue,
                    _ if binding.target == Target::Body => ListStyle::Json,
                    _ => ListStyle::Items,
                };
                if let Some(texts) = value.and_then(|v| texts_of(v, style)) {
                    example.values.insert(input.name.clone(), RawInput::Text(texts));
                }
            }
            example
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_spec_lists_texts_and_file_names_in_input_order_without_bytes() {
        let inputs = vec![Input::text("b", "Bee"), Input::csv_file("a", "Ay")];
        let example = Example::new("one")
            .file("a", "x.csv", b"t,v\n1,2\n".to_vec())
            .text("b", "hi");
        let spec = example.spec(&inputs);
        assert_eq!(spec.summary, "Bee: hi · Ay: x.csv");
        assert_eq!(spec.files.get("a").map(String::as_str), Some("x.csv"));
        assert_eq!(spec.values.get("b"), Some(&vec!["hi".to_owned()]));
        assert!(!spec.thumbnail, "a CSV has no thumbnail");
        let long = Example::new("long").text("b", "x".repeat(200)).spec(&inputs);
        assert_eq!(long.summary.chars().count(), SUMMARY_CHARS);
        assert!(long.summary.ends_with('…'));
    }

    #[test]
    fn a_thumbnail_is_a_small_png_of_the_example_image() {
        let big = image::GrayImage::from_fn(300, 150, |x, _| image::Luma([(x % 256) as u8]));
        let mut png = Cursor::new(Vec::new());
        image::DynamicImage::ImageLuma8(big)
            .write_to(&mut png, image::ImageFormat::Png)
            .unwrap();
        let inputs = vec![Input::image_file("img", "Image")];
        let example = Example::new("cells").file("img", "cells.png", png.into_inner());
        assert!(example.spec(&inputs).thumbnail);
        let thumb = image::load_from_memory(&example.thumbnail(&inputs).unwrap()).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (THUMBNAIL_SIDE, THUMBNAIL_SIDE / 2));
        let broken = Example::new("bad").file("img", "bad.png", b"not a png".to_vec());
        assert_eq!(broken.thumbnail(&inputs), None);
    }

    #[test]
    fn field_values_become_form_texts() {
        let v = serde_json::json!(["a", "b"]);
        assert_eq!(texts_of(&v, ListStyle::Items), Some(vec!["a".into(), "b".into()]));
        assert_eq!(
            texts_of(&serde_json::json!([1, 2.5]), ListStyle::Joined(", ")),
            Some(vec!["1, 2.5".into()])
        );
        assert_eq!(
            texts_of(&serde_json::json!(3), ListStyle::Items),
            Some(vec!["3".into()])
        );
        assert_eq!(
            texts_of(&serde_json::json!(true), ListStyle::Items),
            Some(vec!["true".into()])
        );
        assert_eq!(texts_of(&serde_json::json!({"k": 1}), ListStyle::Items), None);
        assert_eq!(
            texts_of(&serde_json::json!({"k": 1}), ListStyle::Json),
            Some(vec!["{\n  \"k\": 1\n}".into()])
        );
    }

    #[test]
    fn a_generated_gui_offers_the_request_schema_examples_and_they_submit() {
        use crate::{SchemaUi, UiSession};
        let schema = serde_json::json!({
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "repeat": {"type": "integer", "minimum": 1, "maximum": 10},
                "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "uniqueItems": true}
            },
            "required": ["text", "repeat"],
            "examples": [{"text": "hi", "repeat": 2, "tags": ["b"]}, {"text": "bye", "repeat": 1}]
        });
        let session = UiSession::new(std::sync::Arc::new(SchemaUi::from_schema("t", "", &schema)));
        assert_eq!(session.spec().examples.len(), 2);
        assert_eq!(session.spec().examples[1].label, "Example 2");
        let first = &session.examples()[0];
        let values = session.parse_inputs(first.raw()).unwrap();
        let request = session.prepare(&values).unwrap().json;
        assert_eq!(request, serde_json::json!({"text": "hi", "repeat": 2, "tags": ["b"]}));
    }
}
