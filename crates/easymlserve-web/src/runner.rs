//! The UI runner: parses the form against the UI's inputs, runs `prepare_request`, calls the service,
//! runs `process_response`, and checks the outputs against the UI's spec. Stateless: nothing outlives
//! the request.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use easymlserve_core::ServiceCaller;
use easymlserve_core::ui::{
    DynUi, InputValue, InputValues, OutputEntry, OutputKind, OutputValue, RawInput, UiError, UiSpec,
};
use serde::Serialize;

use crate::error::UiApiError;

/// What the page needs to know besides the components.
#[derive(Debug, Clone, Serialize)]
pub struct PageInfo {
    /// The URL of `POST /process` for the "use via API" panel; `None` means this page's own origin.
    pub process_url: Option<String>,
    /// Whether the page must ask for an API key.
    pub auth_required: bool,
}

/// `GET /ui/spec`: the components and the page info.
#[derive(Debug, Clone, Serialize)]
pub struct PageSpec {
    /// Title, description, inputs and outputs.
    #[serde(flatten)]
    pub ui: UiSpec,
    /// Page settings.
    pub page: PageInfo,
}

/// The answer of a submission.
#[derive(Debug, Clone, Serialize)]
pub struct SubmitAnswer {
    /// One entry per output.
    pub outputs: Vec<OutputEntry>,
    /// The request sent to the service, for the "use via API" panel.
    pub request: serde_json::Value,
    /// Time from receiving the form to the answer, in milliseconds.
    pub elapsed_ms: u64,
}

/// A preview of an uploaded file, shown before submitting.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Preview {
    /// An image, as displayed.
    Image {
        /// The displayable image.
        image: easymlserve_core::ui::ImageOutput,
        /// e.g. `16-bit grey`.
        detail: String,
    },
    /// The first rows of a CSV table.
    Table {
        /// Up to 8 rows.
        table: easymlserve_core::ui::Table,
        /// All rows.
        rows: usize,
    },
    /// A time series, drawn.
    TimeSeries {
        /// The series as a plot.
        plot: easymlserve_core::ui::Plot,
        /// All rows.
        rows: usize,
    },
    /// Any other file.
    File {
        /// File name.
        name: String,
        /// Size in bytes.
        size: usize,
    },
}

/// Runs one UI against one service.
pub struct UiRunner {
    ui: Arc<dyn DynUi>,
    spec: UiSpec,
    names: Vec<String>,
    caller: Arc<dyn ServiceCaller>,
    page: PageInfo,
    body_limit: usize,
}

impl UiRunner {
    /// A runner for `ui` calling `caller`.
    pub fn new(ui: Arc<dyn DynUi>, caller: Arc<dyn ServiceCaller>, page: PageInfo, body_limit: usize) -> Self {
        let spec = ui.spec();
        let names = spec.inputs.iter().map(|i| i.name.clone()).collect();
        Self {
            ui,
            spec,
            names,
            caller,
            page,
            body_limit,
        }
    }

    /// The page spec.
    pub fn page_spec(&self) -> PageSpec {
        PageSpec {
            ui: self.spec.clone(),
            page: self.page.clone(),
        }
    }

    /// Names of the inputs.
    pub fn input_names(&self) -> &[String] {
        &self.names
    }

    /// The upload limit in bytes.
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// Parses every input of the spec from the raw form values.
    pub fn parse_inputs(&self, mut raw: BTreeMap<String, RawInput>) -> Result<InputValues, UiError> {
        let mut values = InputValues::new();
        for input in &self.spec.inputs {
            let value = input.parse(raw.remove(&input.name).unwrap_or(RawInput::Absent))?;
            values.insert(input.name.clone(), value);
        }
        Ok(values)
    }

    /// Runs a whole submission.
    pub async fn submit(&self, raw: BTreeMap<String, RawInput>) -> Result<SubmitAnswer, UiApiError> {
        let started = Instant::now();
        let values = self.parse_inputs(raw).map_err(UiApiError::invalid)?;
        let prepared = self.ui.prepare(&values).map_err(UiApiError::invalid)?;
        let request = prepared.json.clone();
        let response = self
            .caller
            .call(prepared.json.clone())
            .await
            .map_err(|e| UiApiError::from_call(e, &self.names))?;
        let outputs = self.ui.present(prepared, response).map_err(UiApiError::presentation)?;
        self.check_outputs(&outputs.0).map_err(UiApiError::presentation)?;
        Ok(SubmitAnswer {
            outputs: outputs.0,
            request,
            elapsed_ms: started.elapsed().as_millis() as u64,
        })
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

    /// Parses one uploaded file as its input would, and describes it.
    pub fn preview(&self, name: &str, raw: RawInput) -> Result<Preview, UiApiError> {
        let input = self
            .spec
            .inputs
            .iter()
            .find(|i| i.name == name)
            .ok_or_else(|| UiApiError::bad_form(format!("the form has no input named `{name}`")))?;
        let value = input.parse(raw).map_err(UiApiError::invalid)?;
        Ok(match value {
            InputValue::Image(image) => {
                let tone = if image.channels >= 3 { "colour" } else { "grey" };
                let detail = format!("{} x {} px, {}-bit {tone}", image.width, image.height, image.bit_depth);
                Preview::Image {
                    image: image.to_display(),
                    detail,
                }
            }
            InputValue::Table(table) => Preview::Table {
                rows: table.rows.len(),
                table: table.head(8),
            },
            InputValue::TimeSeries(series) => Preview::TimeSeries {
                rows: series.len(),
                plot: series.to_plot(&input.label),
            },
            InputValue::File(file) => Preview::File {
                size: file.bytes.len(),
                name: file.name,
            },
            _ => return Err(UiApiError::bad_form(format!("`{name}` is not a file input"))),
        })
    }
}
