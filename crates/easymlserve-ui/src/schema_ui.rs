//! `SchemaUi`: the GUI of a service without a hand-written `Ui`, generated from its request and
//! response JSON Schemas (`schema_inputs.rs`, `schema_outputs.rs`) and refined field by field with
//! `x-easymlserve-widget` overrides (`widget.rs`). `docs/generated-gui.md` lists every rule.

use serde_json::{Map, Value};

use easymlserve_core::ServiceSpec;

use super::examples::from_request_schema;
use super::schema_encode::encode;
use super::schema_inputs::{Binding, Encoding, Target, bindings};
use super::schema_outputs::{Shown, plan, present};
use super::{Example, Input, InputValues, Output, OutputValues, Ui, UiError};

/// A UI built at run time from a request schema and, when known, a response schema.
#[derive(Debug, Clone)]
pub struct SchemaUi {
    title: String,
    description: String,
    bindings: Vec<Binding>,
    outputs: Vec<Shown>,
    examples: Vec<Example>,
}

impl SchemaUi {
    /// The GUI of a loaded spec: inputs from its request schema, outputs from its response schema,
    /// title and description from its info. An override that names an unknown widget, or that does
    /// not fit its field, is an error naming the field.
    pub fn from_spec(spec: &ServiceSpec) -> Result<Self, UiError> {
        let title = super::schema_inputs::humanize(&spec.info.name);
        Self::from_schemas(
            title,
            spec.info.description.clone(),
            &spec.request_schema,
            &spec.response_schema,
        )
    }

    /// The GUI of a Rust service, from the types' schemas (handy in tests and for a desktop binary).
    pub fn for_service<S: easymlserve_core::Service>(service: &S) -> Result<Self, UiError> {
        Self::from_spec(&ServiceSpec::of(service))
    }

    /// The GUI for a request and a response schema (each with its `$ref`s pointing into itself).
    pub fn from_schemas(
        title: impl Into<String>,
        description: impl Into<String>,
        request: &Value,
        response: &Value,
    ) -> Result<Self, UiError> {
        let bindings = bindings(request)?;
        Ok(Self {
            title: title.into(),
            description: description.into(),
            examples: from_request_schema(request, &bindings),
            bindings,
            outputs: plan(response)?,
        })
    }

    /// The form for `schema` with the response shown as JSON; overrides that cannot be honoured are
    /// left out (use [`SchemaUi::from_schemas`] to see why).
    pub fn from_schema(title: impl Into<String>, description: impl Into<String>, schema: &Value) -> Self {
        let (title, description) = (title.into(), description.into());
        Self::from_schemas(title.clone(), description.clone(), schema, &Value::Bool(true)).unwrap_or_else(|_| {
            let plain = without_overrides(schema);
            let bindings = bindings(&plain).unwrap_or_default();
            Self {
                title,
                description,
                examples: from_request_schema(&plain, &bindings),
                bindings,
                outputs: plan(&Value::Bool(true)).unwrap_or_default(),
            }
        })
    }
}

/// `schema` with every `x-easymlserve-widget` removed.
fn without_overrides(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| k.as_str() != super::widget::WIDGET_KEY)
                .map(|(k, v)| (k.clone(), without_overrides(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_overrides).collect()),
        other => other.clone(),
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
        self.bindings.iter().filter_map(|b| b.input.clone()).collect()
    }

    fn outputs(&self) -> Vec<Output> {
        self.outputs.iter().map(|s| s.output.clone()).collect()
    }

    /// The request schema's `examples`, as form values.
    fn examples(&self) -> Vec<Example> {
        self.examples.clone()
    }

    fn prepare_request(&self, inputs: &InputValues) -> Result<Value, UiError> {
        let mut body = Map::new();
        for binding in &self.bindings {
            let value = encode(binding, inputs, &mut body)?;
            match (&binding.target, value) {
                (_, None) => {}
                (Target::Body, Some(value)) => return Ok(value),
                (Target::Field(name), Some(value)) => {
                    body.insert(name.clone(), value);
                }
            }
        }
        Ok(Value::Object(body))
    }

    /// The input whose value made `field`: the whole-body editor, a CSV whose `fills` name the
    /// field's top-level property, or the input bound to that property.
    fn input_for_field(&self, field: &str) -> Option<String> {
        let top = super::field::top_level(field);
        self.bindings.iter().find_map(|binding| {
            let input = binding.input.as_ref()?;
            let made = match (&binding.target, &binding.encoding) {
                (Target::Body, _) => true,
                (_, Encoding::Fills(fields)) => fields.iter().any(|f| f == top),
                (Target::Field(name), _) => name == top,
            };
            made.then(|| input.name.clone())
        })
    }

    fn process_response(&self, request: &Value, response: Value) -> Result<OutputValues, UiError> {
        let mut out = OutputValues::new();
        for shown in &self.outputs {
            if let Some(value) = present(shown, request, &response)? {
                out = out.with(shown.output.name.clone(), value);
            }
        }
        Ok(out)
    }
}

/// The GUI of a service whose overrides were refused: no inputs, the error as its description, and
/// the error again on submit, so the author sees which field to fix.
#[derive(Debug, Clone)]
pub(crate) struct Refused(pub UiError);

impl Ui for Refused {
    type Request = Value;
    type Response = Value;

    fn title(&self) -> String {
        "This GUI could not be generated".to_owned()
    }

    fn description(&self) -> String {
        match &self.0.field {
            Some(field) => format!("Field `{field}`: {}", self.0.message),
            None => self.0.message.clone(),
        }
    }

    fn inputs(&self) -> Vec<Input> {
        Vec::new()
    }

    fn outputs(&self) -> Vec<Output> {
        Vec::new()
    }

    fn prepare_request(&self, _: &InputValues) -> Result<Value, UiError> {
        Err(self.0.clone())
    }

    fn process_response(&self, _: &Value, _: Value) -> Result<OutputValues, UiError> {
        Err(self.0.clone())
    }
}
