//! The `x-easymlserve-widget` schema extension: how an author overrides the widget the generated GUI
//! picks for one field (or for the whole request or response), without writing a `Ui`. Parsed and
//! checked here, so an unknown name is refused with the field it was found on.
//!
//! The extension is either a widget name (`"image"`) or an object naming the widget and its options
//! (`{"widget": "time_series_csv", "fills": ["time", "energy"]}`). The full list is in
//! `docs/generated-gui.md`.

use serde_json::{Map, Value};

use super::UiError;

/// The schema keyword that carries an override.
pub const WIDGET_KEY: &str = "x-easymlserve-widget";

/// Widgets a request field (or the request root) may name. `python/easymlserve/widget.py` keeps the same
/// two lists for the Python SDK; a test here fails when they differ.
pub const INPUT_WIDGETS: &[&str] = &[
    "text",
    "text_long",
    "json",
    "number",
    "slider",
    "dropdown",
    "checkboxes",
    "checkbox",
    "number_list",
    "text_list",
    "date_time",
    "image",
    "time_series_csv",
    "camera",
    "dataframe",
    "audio",
    "hidden",
];

/// Widgets a response field (or the response root) may name.
pub const OUTPUT_WIDGETS: &[&str] = &[
    "text",
    "number",
    "table",
    "plot",
    "image",
    "label_overlay",
    "label",
    "gallery",
    "annotated_image",
    "markdown",
    "audio",
    "json",
    "hidden",
];

/// Which side of the service a schema describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Request,
    Response,
}

/// An override read from a schema: the widget's name and its options.
#[derive(Debug, Clone, PartialEq)]
pub struct Widget {
    /// One of [`INPUT_WIDGETS`] or [`OUTPUT_WIDGETS`].
    pub name: String,
    /// Everything in the extension object except `widget`.
    pub options: Map<String, Value>,
}

impl Widget {
    /// The override on `schema`, if any; `field` names it in errors (`""` for the root).
    pub(crate) fn of(schema: &Value, field: &str, side: Side) -> Result<Option<Self>, UiError> {
        let Some(raw) = schema.get(WIDGET_KEY) else {
            return Ok(None);
        };
        let at = match (side, field) {
            (Side::Request, "") => "the request".to_owned(),
            (Side::Response, "") => "the response".to_owned(),
            (Side::Request, f) => format!("request field `{f}`"),
            (Side::Response, f) => format!("response field `{f}`"),
        };
        let field_name = if field.is_empty() { WIDGET_KEY } else { field };
        let (name, options) = match raw {
            Value::String(name) => (name.clone(), Map::new()),
            Value::Object(object) => {
                let mut options = object.clone();
                let Some(Value::String(name)) = options.remove("widget") else {
                    return Err(UiError::field(
                        field_name,
                        format!("{at}: `{WIDGET_KEY}` needs a string `widget` naming the component"),
                    ));
                };
                (name, options)
            }
            _ => {
                return Err(UiError::field(
                    field_name,
                    format!("{at}: `{WIDGET_KEY}` must be a widget name or an object with `widget`"),
                ));
            }
        };
        let known = match side {
            Side::Request => INPUT_WIDGETS,
            Side::Response => OUTPUT_WIDGETS,
        };
        if !known.contains(&name.as_str()) {
            return Err(UiError::field(
                field_name,
                format!("{at}: unknown widget `{name}`; known: {}", known.join(", ")),
            ));
        }
        Ok(Some(Self { name, options }))
    }

    /// A string option.
    pub(crate) fn text(&self, key: &str) -> Option<&str> {
        self.options.get(key).and_then(Value::as_str)
    }

    /// A number option.
    pub(crate) fn number(&self, key: &str) -> Option<f64> {
        self.options.get(key).and_then(Value::as_f64)
    }

    /// A list-of-strings option; a single string counts as a list of one.
    pub(crate) fn texts(&self, key: &str) -> Option<Vec<String>> {
        match self.options.get(key)? {
            Value::String(s) => Some(vec![s.clone()]),
            Value::Array(items) => items.iter().map(|v| v.as_str().map(str::to_owned)).collect(),
            _ => None,
        }
    }
}

/// The value of an `x-easymlserve-widget` extension, for Rust authors:
/// `#[schemars(extend("x-easymlserve-widget" = easymlserve::ui::widget("image", json!({}))))]`, or
/// written inline as `{"widget": "image"}`. `options` must be an object (anything else is ignored).
pub fn widget(name: &str, options: Value) -> Value {
    let mut object = match options {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    object.insert("widget".to_owned(), Value::String(name.to_owned()));
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_names_and_objects_and_refuses_unknown_names_with_the_field() {
        let plain = Widget::of(&json!({WIDGET_KEY: "image"}), "picture", Side::Request).unwrap();
        assert_eq!(plain.map(|w| w.name), Some("image".to_owned()));
        let full = Widget::of(
            &json!({WIDGET_KEY: {"widget": "time_series_csv", "fills": ["time", "energy"]}}),
            "",
            Side::Request,
        )
        .unwrap()
        .unwrap();
        assert_eq!(full.texts("fills"), Some(vec!["time".to_owned(), "energy".to_owned()]));
        let err = Widget::of(&json!({WIDGET_KEY: "slidr"}), "repeat", Side::Request).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("repeat"));
        assert!(err.message.contains("unknown widget `slidr`"), "{}", err.message);
        assert!(err.message.contains("slider"), "{}", err.message);
        let err = Widget::of(&json!({WIDGET_KEY: "label_overlay"}), "x", Side::Request).unwrap_err();
        assert!(err.message.contains("request field `x`"), "{}", err.message);
        let err = Widget::of(&json!({WIDGET_KEY: 3}), "x", Side::Response).unwrap_err();
        assert!(err.message.contains("response field `x`"), "{}", err.message);
        assert_eq!(
            Widget::of(&json!({"type": "string"}), "x", Side::Request).unwrap(),
            None
        );
        assert_eq!(
            widget("number", json!({"unit": "MW"})),
            json!({"widget": "number", "unit": "MW"})
        );
    }

    /// The Python SDK's copy of the lists, which `easymlserve.widget` checks names against.
    const PYTHON_WIDGETS: &str = include_str!("../../../python/easymlserve/widget.py");

    /// The quoted names of the tuple `NAME: Tuple[str, ...] = (...)` in `PYTHON_WIDGETS`; panics (the
    /// test fails) when the tuple is missing or holds anything but string literals.
    fn python_tuple(name: &str) -> Vec<&'static str> {
        let start = PYTHON_WIDGETS
            .find(&format!("\n{name}: "))
            .unwrap_or_else(|| panic!("widget.py defines no `{name}`"));
        let rest = &PYTHON_WIDGETS[start..];
        let open = rest
            .find(" = (")
            .unwrap_or_else(|| panic!("`{name}` in widget.py is not a tuple"))
            + 4;
        let close = open
            + rest[open..]
                .find(')')
                .unwrap_or_else(|| panic!("`{name}` is not closed"));
        rest[open..close]
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.strip_prefix('"')
                    .and_then(|i| i.strip_suffix('"'))
                    .unwrap_or_else(|| panic!("`{name}` in widget.py holds `{item}`, not a string literal"))
            })
            .collect()
    }

    #[test]
    fn the_python_sdk_lists_the_same_widgets_as_the_rust_side() {
        for (name, rust) in [("INPUT_WIDGETS", INPUT_WIDGETS), ("OUTPUT_WIDGETS", OUTPUT_WIDGETS)] {
            let python = python_tuple(name);
            assert!(python.len() > 3, "{name}: read only {python:?} from widget.py");
            let only_rust: Vec<_> = rust.iter().filter(|w| !python.contains(w)).collect();
            let only_python: Vec<_> = python.iter().filter(|w| !rust.contains(w)).collect();
            assert!(
                only_rust.is_empty() && only_python.is_empty(),
                "{name} differs: only in widget.rs {only_rust:?}, only in python/easymlserve/widget.py {only_python:?}"
            );
            assert_eq!(python.len(), rust.len(), "{name}: a name is listed twice");
        }
    }
}
