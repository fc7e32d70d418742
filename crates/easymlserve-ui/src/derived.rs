//! `DerivedUi`: the generated GUI of a service's own request and response types (`SchemaUi`) plus
//! the few outputs an author computes from the request and the response, which the response schema
//! does not contain (an error plot, a score table, a download). The author writes only those, typed;
//! everything else, and where a 422 lands, comes from the schema. Being typed, a `DerivedUi` is
//! checked by `with_ui` like a hand-written `Ui`.

use std::marker::PhantomData;
use std::sync::Arc;

use easymlserve_core::schemars::JsonSchema;
use easymlserve_core::{Service, schema_for};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::schema_ui::Refused;
use super::{Example, Input, InputValue, InputValues, Output, OutputValue, OutputValues, SchemaUi, Ui, UiError};

/// Computes one derived output from the typed request and response.
type Derive<Req, Resp> = Arc<dyn Fn(&Req, &Resp) -> Result<OutputValue, UiError> + Send + Sync>;

/// One output of a [`DerivedUi`]: generated from the response schema (possibly renamed), or derived.
enum Slot<Req, Resp> {
    Generated { from: String, output: Output },
    Derived { output: Output, derive: Derive<Req, Resp> },
}

impl<Req, Resp> Slot<Req, Resp> {
    fn output(&self) -> &Output {
        match self {
            Self::Generated { output, .. } | Self::Derived { output, .. } => output,
        }
    }
}

/// The GUI generated from `Req` and `Resp`'s schemas, with derived outputs added by
/// [`DerivedUi::with_output`]. When the types' `x-easymlserve-widget` overrides cannot be honoured,
/// the GUI shows the error (naming the field) instead of a form, as a generated GUI does.
pub struct DerivedUi<Req, Resp> {
    base: Result<SchemaUi, UiError>,
    slots: Vec<Slot<Req, Resp>>,
    examples: Vec<Example>,
    _types: PhantomData<fn() -> (Req, Resp)>,
}

impl<Req, Resp> DerivedUi<Req, Resp>
where
    Req: Serialize + DeserializeOwned + JsonSchema + Send + 'static,
    Resp: Serialize + DeserializeOwned + JsonSchema + Send + 'static,
{
    /// The generated GUI of the types, with this title and description.
    pub fn new(title: impl Into<String>, description: impl Into<String>) -> Self {
        let base = SchemaUi::from_schemas(title, description, &schema_for::<Req>(), &schema_for::<Resp>());
        let slots = match &base {
            Ok(ui) => ui
                .outputs()
                .into_iter()
                .map(|output| Slot::Generated {
                    from: output.name.clone(),
                    output,
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        Self {
            base,
            slots,
            examples: Vec::new(),
            _types: PhantomData,
        }
    }

    /// Adds an example to click (after those of the request schema's `examples`), e.g. one with a
    /// file the schema cannot hold.
    #[must_use]
    pub fn with_example(mut self, example: Example) -> Self {
        self.examples.push(example);
        self
    }

    /// [`DerivedUi::with_example`] for each of `examples`, in order.
    #[must_use]
    pub fn with_examples(mut self, examples: impl IntoIterator<Item = Example>) -> Self {
        self.examples.extend(examples);
        self
    }

    /// The generated GUI of a service, titled and described by its info.
    pub fn for_service<S: Service<Request = Req, Response = Resp>>(service: &S) -> Self {
        let info = service.info();
        Self::new(super::schema_inputs::humanize(&info.name), info.description)
    }

    /// Adds an output computed by `derive` from the request and the response; it replaces a
    /// generated output of the same name in place, else it comes last.
    #[must_use]
    pub fn with_output<F>(mut self, output: Output, derive: F) -> Self
    where
        F: Fn(&Req, &Resp) -> Result<OutputValue, UiError> + Send + Sync + 'static,
    {
        let slot = Slot::Derived {
            output,
            derive: Arc::new(derive),
        };
        match self.position(&slot.output().name) {
            Some(i) => self.slots[i] = slot,
            None => self.slots.push(slot),
        }
        self
    }

    /// Replaces the generated output `name` in place by a derived one (with its own name).
    #[must_use]
    pub fn replace_output<F>(mut self, name: &str, output: Output, derive: F) -> Self
    where
        F: Fn(&Req, &Resp) -> Result<OutputValue, UiError> + Send + Sync + 'static,
    {
        let at = self.position(name);
        self = self.with_output(output, derive);
        if let Some(i) = at {
            if let Some(slot) = self.slots.pop() {
                self.slots[i] = slot;
            }
        }
        self
    }

    /// Shows the generated output `name` under the name `to` (the key of its value, and the id of
    /// its component in both GUIs).
    #[must_use]
    pub fn rename_output(mut self, name: &str, to: impl Into<String>) -> Self {
        if let Some(i) = self.position(name) {
            if let Slot::Generated { output, .. } = &mut self.slots[i] {
                output.name = to.into();
            }
        }
        self
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.slots.iter().position(|s| s.output().name == name)
    }
}

fn encoding_error(what: &str, err: &serde_json::Error) -> UiError {
    UiError::general(format!("the {what} does not fit its type: {err}"))
}

impl<Req, Resp> Ui for DerivedUi<Req, Resp>
where
    Req: Serialize + DeserializeOwned + JsonSchema + Send + 'static,
    Resp: Serialize + DeserializeOwned + JsonSchema + Send + 'static,
{
    type Request = Req;
    type Response = Resp;

    fn title(&self) -> String {
        match &self.base {
            Ok(ui) => ui.title(),
            Err(e) => Refused(e.clone()).title(),
        }
    }

    fn description(&self) -> String {
        match &self.base {
            Ok(ui) => ui.description(),
            Err(e) => Refused(e.clone()).description(),
        }
    }

    fn inputs(&self) -> Vec<Input> {
        self.base.as_ref().map(SchemaUi::inputs).unwrap_or_default()
    }

    fn outputs(&self) -> Vec<Output> {
        self.slots.iter().map(|s| s.output().clone()).collect()
    }

    /// The generated form's request, read into `Req`. A required input left empty is an error on
    /// it (a `Req` cannot be built without it, where the untyped GUI lets the server say so).
    fn prepare_request(&self, inputs: &InputValues) -> Result<Req, UiError> {
        let base = self.base.as_ref().map_err(Clone::clone)?;
        let empty = |name: &str| matches!(inputs.get(name), None | Some(InputValue::Empty));
        if let Some(missing) = base.inputs().into_iter().find(|i| i.required && empty(&i.name)) {
            return Err(UiError::field(&missing.name, format!("{} is required", missing.label)));
        }
        let json = base.prepare_request(inputs)?;
        serde_json::from_value(json).map_err(|e| encoding_error("request", &e))
    }

    fn input_for_field(&self, field: &str) -> Option<String> {
        Ui::input_for_field(self.base.as_ref().ok()?, field)
    }

    fn examples(&self) -> Vec<Example> {
        let mut all = self.base.as_ref().map(Ui::examples).unwrap_or_default();
        all.extend(self.examples.iter().cloned());
        all
    }

    fn process_response(&self, request: &Req, response: Resp) -> Result<OutputValues, UiError> {
        let base = self.base.as_ref().map_err(Clone::clone)?;
        let needs_generated = self.slots.iter().any(|s| matches!(s, Slot::Generated { .. }));
        let generated = if needs_generated {
            let request_json = serde_json::to_value(request).map_err(|e| encoding_error("request", &e))?;
            let response_json = serde_json::to_value(&response).map_err(|e| encoding_error("response", &e))?;
            base.process_response(&request_json, response_json)?
        } else {
            OutputValues::new()
        };
        let mut out = OutputValues::new();
        for slot in &self.slots {
            match slot {
                Slot::Generated { from, output } => {
                    if let Some(value) = generated.get(from) {
                        out = out.with(output.name.clone(), value.clone());
                    }
                }
                Slot::Derived { output, derive } => {
                    out = out.with(output.name.clone(), derive(request, &response)?);
                }
            }
        }
        Ok(out)
    }
}

impl<Req, Resp> std::fmt::Debug for DerivedUi<Req, Resp> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.slots.iter().map(|s| s.output().name.as_str()).collect();
        f.debug_struct("DerivedUi")
            .field("base", &self.base)
            .field("outputs", &names)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

    use serde::{Deserialize, Serialize};

    use super::DerivedUi;
    use crate::{InputValue, InputValues, Output, OutputValue, Ui};

    #[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
    struct Req {
        /// A number.
        #[schemars(range(min = 0, max = 10))]
        x: f64,
    }

    #[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
    struct Resp {
        y: f64,
        note: String,
    }

    fn ui() -> DerivedUi<Req, Resp> {
        DerivedUi::new("T", "D")
            .with_output(Output::number("sum", "x + y"), |q: &Req, r: &Resp| {
                Ok(OutputValue::Number(q.x + r.y))
            })
            .replace_output("note", Output::text("shout", "Note"), |_: &Req, r: &Resp| {
                Ok(OutputValue::Text(r.note.to_uppercase()))
            })
            .rename_output("y", "why")
    }

    #[test]
    fn derived_outputs_join_the_generated_ones_in_order() {
        let ui = ui();
        let names: Vec<String> = ui.outputs().into_iter().map(|o| o.name).collect();
        assert_eq!(
            names,
            ["shout", "why", "sum"],
            "generated in schema order, then derived"
        );
        let inputs: Vec<String> = ui.inputs().into_iter().map(|i| i.name).collect();
        assert_eq!(inputs, ["x"]);
        let request = ui
            .prepare_request(&InputValues::new().with("x", InputValue::Number(2.0)))
            .unwrap();
        assert_eq!(request.x, 2.0);
        let response = Resp {
            y: 3.0,
            note: "hi".to_owned(),
        };
        let out = ui.process_response(&request, response).unwrap();
        assert_eq!(out.get("why"), Some(&OutputValue::Number(3.0)));
        assert_eq!(out.get("shout"), Some(&OutputValue::Text("HI".to_owned())));
        assert_eq!(out.get("sum"), Some(&OutputValue::Number(5.0)));
        assert_eq!((out.get("y"), out.get("note")), (None, None), "replaced and renamed");
        assert_eq!(ui.input_for_field("x"), Some("x".to_owned()));
        let err = ui.prepare_request(&InputValues::new()).unwrap_err();
        assert_eq!(
            (err.field.as_deref(), err.message.as_str()),
            (Some("x"), "X is required")
        );
    }

    #[test]
    fn a_derived_error_reaches_the_user() {
        let ui = ui().with_output(Output::text("sum", "Sum"), |_: &Req, _: &Resp| {
            Err(crate::UiError::general("no sum today"))
        });
        assert_eq!(
            ui.outputs().iter().filter(|o| o.name == "sum").count(),
            1,
            "replaced in place"
        );
        let response = Resp {
            y: 1.0,
            note: String::new(),
        };
        let err = ui.process_response(&Req { x: 1.0 }, response).unwrap_err();
        assert_eq!(err.message, "no sum today");
    }
}
