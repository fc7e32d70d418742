//! Which GUI input a request field names. A 422 from the server's validation or from the model names a
//! field path of the request (`repeat`, `time[3]`, `image.shape`); the GUIs show the message next to
//! the input that produced that field, so a `Ui` need not re-check what the schema already checks.

use crate::Input;

/// The top-level property of a field path: `time[3]` -> `time`, `image.shape` -> `image`.
pub fn top_level(field: &str) -> &str {
    field.find(['[', '.']).map_or(field, |end| &field[..end])
}

/// The input among `inputs` that a field path names: the input of exactly that name (an ONNX form has
/// one input per vector element, `x[0]`), else the input named after the path's top-level property.
/// This is what [`Ui::input_for_field`](crate::Ui::input_for_field) does unless a UI says otherwise.
pub fn input_named_by(field: &str, inputs: &[Input]) -> Option<String> {
    let named = |name: &str| inputs.iter().find(|i| i.name == name).map(|i| i.name.clone());
    named(field).or_else(|| named(top_level(field)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Vec<Input> {
        vec![
            Input::number("repeat", "Repeat", true),
            Input::text("time", "Time"),
            Input::image_file("image", "Image"),
            Input::number("x[0]", "x 0", false),
        ]
    }

    #[test]
    fn a_path_names_the_input_of_its_top_level_property() {
        assert_eq!(top_level("time[3]"), "time");
        assert_eq!(top_level("image.shape"), "image");
        assert_eq!(top_level("points[1].lat"), "points");
        assert_eq!(top_level("repeat"), "repeat");
        let inputs = inputs();
        assert_eq!(input_named_by("repeat", &inputs).as_deref(), Some("repeat"));
        assert_eq!(input_named_by("time[3]", &inputs).as_deref(), Some("time"));
        assert_eq!(input_named_by("image.shape", &inputs).as_deref(), Some("image"));
        assert_eq!(
            input_named_by("x[0]", &inputs).as_deref(),
            Some("x[0]"),
            "an exact name first"
        );
        assert_eq!(input_named_by("energy[2]", &inputs), None, "no input makes `energy`");
        assert_eq!(input_named_by("", &inputs), None);
        assert_eq!(
            input_named_by("timeout", &inputs),
            None,
            "a prefix of a name is not the name"
        );
    }

    /// A CSV input that fills two request fields, as the forecasting GUI's does.
    struct Csv;

    impl crate::Ui for Csv {
        type Request = serde_json::Value;
        type Response = serde_json::Value;
        fn inputs(&self) -> Vec<Input> {
            vec![
                Input::time_series_csv_file("csv", "Load CSV"),
                Input::text("note", "Note"),
            ]
        }
        fn outputs(&self) -> Vec<crate::Output> {
            Vec::new()
        }
        fn prepare_request(&self, _: &crate::InputValues) -> Result<serde_json::Value, crate::UiError> {
            Ok(serde_json::Value::Null)
        }
        fn process_response(
            &self,
            _: &serde_json::Value,
            _: serde_json::Value,
        ) -> Result<crate::OutputValues, crate::UiError> {
            Ok(crate::OutputValues::new())
        }
        fn input_for_field(&self, field: &str) -> Option<String> {
            match top_level(field) {
                "time" | "energy" => Some("csv".to_owned()),
                "ghost" => Some("no such input".to_owned()),
                _ => input_named_by(field, &self.inputs()),
            }
        }
    }

    #[test]
    fn a_ui_maps_the_fields_its_inputs_fill_and_the_session_keeps_only_real_inputs() {
        let session = crate::UiSession::new(std::sync::Arc::new(Csv));
        assert_eq!(session.input_for_field("time[3]").as_deref(), Some("csv"));
        assert_eq!(session.input_for_field("energy[0]").as_deref(), Some("csv"));
        assert_eq!(session.input_for_field("note").as_deref(), Some("note"));
        assert_eq!(
            session.input_for_field("ghost"),
            None,
            "a name that is no input is dropped"
        );
        assert_eq!(session.input_for_field("models[1]"), None);
    }

    #[test]
    fn a_generated_form_maps_fields_to_its_inputs() {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {"repeat": {"type": "integer"}, "points": {"type": "array"}},
        });
        let form = crate::UiSession::new(std::sync::Arc::new(crate::SchemaUi::from_schema("t", "", &schema)));
        assert_eq!(form.input_for_field("repeat").as_deref(), Some("repeat"));
        assert_eq!(form.input_for_field("points[1].lat").as_deref(), Some("points"));
        assert_eq!(form.input_for_field("other"), None);

        let filled = serde_json::json!({
            "type": "object",
            "x-easymlserve-widget": {"widget": "time_series_csv", "fills": ["time", "energy"]},
            "properties": {
                "time": {"type": "array", "items": {"type": "string"}},
                "energy": {"type": "array", "items": {"type": "number"}},
                "models": {"type": "array", "items": {"enum": ["LR", "RF"]}},
            },
            "required": ["time", "energy", "models"],
        });
        let csv = crate::UiSession::new(std::sync::Arc::new(crate::SchemaUi::from_schema("t", "", &filled)));
        assert_eq!(
            csv.input_names(),
            ["csv", "models"],
            "the filled fields have no input of their own"
        );
        assert_eq!(csv.input_for_field("time[3]").as_deref(), Some("csv"));
        assert_eq!(csv.input_for_field("energy[0]").as_deref(), Some("csv"));
        assert_eq!(csv.input_for_field("models[1]").as_deref(), Some("models"));

        let whole = serde_json::json!({"type": "array", "items": {"type": "number"}});
        let body = crate::UiSession::new(std::sync::Arc::new(crate::SchemaUi::from_schema("t", "", &whole)));
        assert_eq!(body.input_names().len(), 1);
        assert_eq!(
            body.input_for_field("[2]"),
            body.input_names().first().cloned(),
            "one editor holds the body"
        );
    }
}
