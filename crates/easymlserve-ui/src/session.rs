//! `UiSession`: the GUI-independent run of a UI: parse raw form values against the inputs, run
//! `prepare_request`, call the service, run `process_response`, check the outputs against the spec.
//! The web GUI and the desktop GUI both run forms through it, so they behave the same.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{
    DynUi, Example, InputValues, OutputEntry, OutputKind, OutputValue, OutputValues, Prepared, RawInput, UiError,
    UiSpec,
};
use easymlserve_core::{CallError, ServiceCaller};

/// Why a run did not produce outputs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// An input value is unusable, or `prepare_request` refused the inputs.
    #[error("{0}")]
    Input(UiError),
    /// The service answered with an error or could not be reached.
    #[error("{0}")]
    Service(CallError),
    /// `process_response` failed, or returned outputs the spec does not declare.
    #[error("the answer could not be shown: {0}")]
    Present(UiError),
}

/// The outcome of a run: the request that was sent and the outputs to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Completed {
    /// The JSON request sent to the service.
    pub request: serde_json::Value,
    /// The outputs, in the order the UI set them.
    pub outputs: OutputValues,
}

/// One UI, ready to run forms.
#[derive(Clone)]
pub struct UiSession {
    ui: Arc<dyn DynUi>,
    spec: UiSpec,
    names: Vec<String>,
    examples: Arc<[Example]>,
}

impl std::fmt::Debug for UiSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UiSession")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl UiSession {
    /// A session for `ui`.
    pub fn new(ui: Arc<dyn DynUi>) -> Self {
        let spec = ui.spec();
        let names = spec.inputs.iter().map(|i| i.name.clone()).collect();
        let examples = ui.examples().into();
        Self {
            ui,
            spec,
            names,
            examples,
        }
    }

    /// The UI's examples, in the order of `spec().examples`.
    pub fn examples(&self) -> &[Example] {
        &self.examples
    }

    /// The components.
    pub fn spec(&self) -> &UiSpec {
        &self.spec
    }

    /// The input names, in order.
    pub fn input_names(&self) -> &[String] {
        &self.names
    }

    /// The input that produced the request field `field` (a path such as `time[3]` in a 422 from the
    /// server or the model), as the UI maps it; `None` when no input of this form did.
    pub fn input_for_field(&self, field: &str) -> Option<String> {
        self.ui.input_for_field(field).filter(|name| self.names.contains(name))
    }

    /// Parses every input of the spec from raw values; a missing value counts as absent.
    pub fn parse_inputs(&self, mut raw: BTreeMap<String, RawInput>) -> Result<InputValues, UiError> {
        let mut values = InputValues::new();
        for input in &self.spec.inputs {
            let value = input.parse(raw.remove(&input.name).unwrap_or(RawInput::Absent))?;
            values.insert(input.name.clone(), value);
        }
        Ok(values)
    }

    /// Prepares the request, calls the service and presents the answer.
    pub async fn run(&self, values: &InputValues, caller: &dyn ServiceCaller) -> Result<Completed, RunError> {
        let prepared = self.prepare(values)?;
        let request = prepared.json.clone();
        let response = caller.call(prepared.json.clone()).await.map_err(RunError::Service)?;
        let outputs = self.present(prepared, response)?;
        Ok(Completed { request, outputs })
    }

    /// The first half of [`UiSession::run`]: runs `prepare_request`. A GUI that submits the request as a
    /// job keeps the result until the job's answer arrives.
    pub fn prepare(&self, values: &InputValues) -> Result<Prepared, RunError> {
        self.ui.prepare(values).map_err(RunError::Input)
    }

    /// A prepared request rebuilt from its JSON (a job's request read back from the job store).
    pub fn restore(&self, json: serde_json::Value) -> Result<Prepared, RunError> {
        self.ui.restore(json).map_err(RunError::Present)
    }

    /// The second half of [`UiSession::run`]: runs `process_response` on the service's answer to
    /// `prepared` and checks the outputs against the spec.
    pub fn present(&self, prepared: Prepared, response: serde_json::Value) -> Result<OutputValues, RunError> {
        let outputs = self.ui.present(prepared, response).map_err(RunError::Present)?;
        self.check_outputs(&outputs.0).map_err(RunError::Present)?;
        Ok(outputs)
    }

    /// [`UiSession::present`] of the answer's JSON text, read once into the UI's response type.
    pub fn present_bytes(&self, prepared: Prepared, response: &[u8]) -> Result<OutputValues, RunError> {
        let outputs = self.ui.present_bytes(prepared, response).map_err(RunError::Present)?;
        self.check_outputs(&outputs.0).map_err(RunError::Present)?;
        Ok(outputs)
    }

    /// Every output must be declared in the spec, with the kind declared there.
    fn check_outputs(&self, outputs: &[OutputEntry]) -> Result<(), UiError> {
        for entry in outputs {
            let declared = self.spec.outputs.iter().find(|o| o.name == entry.name).ok_or_else(|| {
                UiError::general(format!(
                    "the UI returned an output `{}` it does not declare",
                    entry.name
                ))
            })?;
            let fits = matches!(
                (&declared.kind, &entry.value),
                (OutputKind::Plot, OutputValue::Plot(_))
                    | (OutputKind::Image, OutputValue::Image(_))
                    | (OutputKind::Number { .. }, OutputValue::Number(_))
                    | (OutputKind::Text, OutputValue::Text(_))
                    | (OutputKind::Table, OutputValue::Table(_))
                    | (OutputKind::Json, OutputValue::Json(_))
                    | (OutputKind::File, OutputValue::File(_))
                    | (OutputKind::Audio, OutputValue::Audio(_))
                    | (OutputKind::Label { .. }, OutputValue::Label(_))
                    | (OutputKind::Gallery, OutputValue::Gallery(_))
                    | (OutputKind::AnnotatedImage, OutputValue::AnnotatedImage(_))
                    | (OutputKind::Markdown, OutputValue::Markdown(_))
            );
            if !fits {
                return Err(UiError::general(format!(
                    "the output `{}` has a value of another kind",
                    entry.name
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::{Input, InputValue, Output, OutputValue, Ui};

    /// A request with a field the form never shows, so only the typed request can carry it.
    #[derive(Serialize, Deserialize)]
    struct Scaled {
        x: f64,
        offset: f64,
    }

    struct Shift;

    impl Ui for Shift {
        type Request = Scaled;
        type Response = f64;
        fn inputs(&self) -> Vec<Input> {
            vec![Input::number("x", "x", false)]
        }
        fn outputs(&self) -> Vec<Output> {
            vec![Output::number("y", "y")]
        }
        fn prepare_request(&self, inputs: &InputValues) -> Result<Scaled, UiError> {
            let x = inputs.number("x")?.unwrap_or(0.0);
            Ok(Scaled { x, offset: 10.0 + x })
        }
        fn process_response(&self, request: &Scaled, response: f64) -> Result<OutputValues, UiError> {
            Ok(OutputValues::new().with("y", OutputValue::Number(response + request.offset)))
        }
    }

    #[test]
    fn a_request_restored_from_its_json_presents_like_the_one_prepared() {
        let session = UiSession::new(Arc::new(Shift));
        let values = InputValues::new().with("x", InputValue::Number(2.0));
        let prepared = session.prepare(&values).unwrap();
        let restored = session.restore(prepared.json.clone()).unwrap();
        assert_eq!(restored.json, prepared.json);
        let shown = session.present(restored, serde_json::json!(100.0)).unwrap();
        assert_eq!(shown.get("y"), Some(&OutputValue::Number(112.0)));

        let err = session.restore(serde_json::json!({"x": "two"})).unwrap_err();
        assert!(
            err.to_string().contains("the job's request does not fit this GUI"),
            "{err}"
        );
    }
}
