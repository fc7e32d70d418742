//! The UI contract: a `Ui` describes the inputs and outputs a GUI draws for a service, and converts
//! between form values and the service's request and response. The web and desktop GUIs both run it.

mod annotated;
mod audio;
mod bytes;
mod dataframe;
mod derived;
mod envelope;
mod examples;
pub mod field;
mod gallery;
mod image;
mod input_parse;
mod inputs;
mod label;
mod markdown;
mod output_values;
mod outputs;
mod palette;
mod plot;
mod preview;
mod schema_encode;
mod schema_inputs;
mod schema_media;
mod schema_outputs;
mod schema_rich;
mod schema_ui;
mod session;
mod source;
mod table;
mod tensor_ui;
mod time;
mod values;
mod widget;

use std::any::Any;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use self::annotated::{AnnotatedImage, Annotation, BoundingBox};
pub use self::audio::{AudioOutput, AudioValue, MAX_AUDIO_CHANNELS, MAX_AUDIO_SECONDS, WAVEFORM_POINTS};
pub use self::bytes::b64;
pub use self::dataframe::{Cell, Column, ColumnType, DataframeValue, MAX_DATAFRAME_CELLS};
pub use self::derived::DerivedUi;
pub use self::examples::{Example, ExampleSpec, THUMBNAIL_SIDE};
pub use self::gallery::{Gallery, GalleryItem};
pub use self::image::{ImageOutput, ImageValue, MAX_IMAGE_SIDE, label_colour};
pub use self::inputs::{DefaultValue, Input, InputKind};
pub use self::label::{Classes, Confidence, DEFAULT_TOP_K};
pub use self::markdown::{Block, Inline, MAX_DEPTH, Markdown, safe_href};
pub use self::outputs::{Output, OutputKind};
pub use self::palette::{ColourMap, PALETTE, colour_key, parse_hex_colour};
pub use self::plot::{Plot, Series, SeriesKind, XType};
pub use self::preview::{PREVIEW_ROWS, Preview};
pub use self::schema_inputs::{LONG_TEXT_FROM, MAX_SLIDER_STEPS};
pub use self::schema_outputs::{NAME_KEYS, X_KEYS, Y_KEYS};
pub use self::schema_rich::{DETECTION_KEYS, LABEL_KEYS, SCORE_KEYS};
pub use self::schema_ui::SchemaUi;
pub use self::session::{Completed, RunError, UiSession};
pub use self::source::GuiSource;
pub use self::table::{ColumnFormat, Table, TimeSeries};
pub use self::tensor_ui::TensorUi;
pub use self::time::parse_timestamp;
pub use self::values::{
    FileOutput, FileValue, InputValue, InputValues, OutputEntry, OutputValue, OutputValues, RawInput,
    sanitize_file_name,
};
pub use self::widget::{INPUT_WIDGETS, OUTPUT_WIDGETS, WIDGET_KEY, Widget, widget};

/// A problem with what the user entered, or with a UI's own conversion; `field` names the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{message}")]
pub struct UiError {
    /// The input the problem concerns, when there is one.
    pub field: Option<String>,
    /// A message for the user, in plain words.
    pub message: String,
}

impl UiError {
    /// A problem with one input.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// A problem not tied to one input.
    pub fn general(message: impl Into<String>) -> Self {
        Self {
            field: None,
            message: message.into(),
        }
    }
}

/// The components of a UI, as served in `/api/spec` under `ui`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UiSpec {
    /// Title shown at the top of the GUI.
    #[serde(default)]
    pub title: String,
    /// A sentence or two on how to use it.
    #[serde(default)]
    pub description: String,
    /// The input components, in order.
    pub inputs: Vec<Input>,
    /// The output components, in order.
    pub outputs: Vec<Output>,
    /// Examples to click under the form (`Ui::examples`), without their files' bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<ExampleSpec>,
}

/// A UI description for a service: what to ask the user, how to build the request from it, and how to
/// show the response.
pub trait Ui: Send + Sync + 'static {
    /// The service's request type. It is read back from JSON when a replica shows the answer of a job
    /// another replica's page submitted (the job store keeps the request body, not the typed value).
    type Request: Serialize + DeserializeOwned + Send + 'static;
    /// The service's response type.
    type Response: DeserializeOwned + Send + 'static;

    /// Title shown at the top of the GUI.
    fn title(&self) -> String {
        String::new()
    }

    /// A sentence or two on how to use the GUI.
    fn description(&self) -> String {
        String::new()
    }

    /// The input components, in order.
    fn inputs(&self) -> Vec<Input>;

    /// The output components, in order.
    fn outputs(&self) -> Vec<Output>;

    /// Builds the service request from the parsed input values.
    fn prepare_request(&self, inputs: &InputValues) -> Result<Self::Request, UiError>;

    /// Turns the service response into output values.
    fn process_response(&self, request: &Self::Request, response: Self::Response) -> Result<OutputValues, UiError>;

    /// The input that produced a request field, so a 422 naming the field (`time[3]`, from the
    /// server's validation or the model) is shown next to it; `None` shows it above the form. By
    /// default the input named after the field's top-level property ([`field::input_named_by`]); a
    /// UI whose input fills other fields (a CSV that fills `time` and `energy`) says so here.
    fn input_for_field(&self, field: &str) -> Option<String> {
        field::input_named_by(field, &self.inputs())
    }

    /// Examples the GUI lists under the form; one click fills every input they name. None by default.
    fn examples(&self) -> Vec<Example> {
        Vec::new()
    }
}

/// A prepared request: its JSON (sent to the service, shown as a curl command) and the typed request
/// kept for `process_response`.
pub struct Prepared {
    /// The request body.
    pub json: serde_json::Value,
    typed: Box<dyn Any + Send>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("json", &self.json)
            .finish_non_exhaustive()
    }
}

/// A `Ui` with its types erased, so GUI runners can hold any UI behind one pointer.
pub trait DynUi: Send + Sync + 'static {
    /// The components and texts.
    fn spec(&self) -> UiSpec;
    /// Runs `prepare_request` and serialises the request.
    fn prepare(&self, inputs: &InputValues) -> Result<Prepared, UiError>;
    /// Deserialises the response and runs `process_response`.
    fn present(&self, prepared: Prepared, response: serde_json::Value) -> Result<OutputValues, UiError>;
    /// [`DynUi::present`] of the response's JSON text: a typed `Ui` reads it straight into its
    /// response type, with no `serde_json::Value` in between (a co-hosted GUI's answer arrives so).
    fn present_bytes(&self, prepared: Prepared, response: &[u8]) -> Result<OutputValues, UiError> {
        let response = serde_json::from_slice(response).map_err(unexpected_answer)?;
        self.present(prepared, response)
    }
    /// Rebuilds a prepared request from its JSON, e.g. a job's request body read back from the job
    /// store, so any replica can present the answer of a job that another one prepared.
    fn restore(&self, json: serde_json::Value) -> Result<Prepared, UiError>;
    /// [`Ui::input_for_field`].
    fn input_for_field(&self, field: &str) -> Option<String>;
    /// [`Ui::examples`].
    fn examples(&self) -> Vec<Example> {
        Vec::new()
    }
}

impl<U: Ui> DynUi for U {
    fn spec(&self) -> UiSpec {
        let inputs = self.inputs();
        UiSpec {
            title: self.title(),
            description: self.description(),
            examples: Ui::examples(self).iter().map(|e| e.spec(&inputs)).collect(),
            inputs,
            outputs: self.outputs(),
        }
    }

    fn examples(&self) -> Vec<Example> {
        Ui::examples(self)
    }

    fn prepare(&self, inputs: &InputValues) -> Result<Prepared, UiError> {
        let request = self.prepare_request(inputs)?;
        let json = serde_json::to_value(&request)
            .map_err(|e| UiError::general(format!("the request could not be encoded as JSON: {e}")))?;
        Ok(Prepared {
            json,
            typed: Box::new(request),
        })
    }

    fn restore(&self, json: serde_json::Value) -> Result<Prepared, UiError> {
        let request: U::Request = serde_json::from_value(json.clone())
            .map_err(|e| UiError::general(format!("the job's request does not fit this GUI: {e}")))?;
        Ok(Prepared {
            json,
            typed: Box::new(request),
        })
    }

    fn input_for_field(&self, field: &str) -> Option<String> {
        Ui::input_for_field(self, field)
    }

    fn present(&self, prepared: Prepared, response: serde_json::Value) -> Result<OutputValues, UiError> {
        let request = typed_request::<U>(prepared)?;
        let response: U::Response = serde_json::from_value(response).map_err(unexpected_answer)?;
        self.process_response(&request, response)
    }

    fn present_bytes(&self, prepared: Prepared, response: &[u8]) -> Result<OutputValues, UiError> {
        let request = typed_request::<U>(prepared)?;
        let response: U::Response = serde_json::from_slice(response).map_err(unexpected_answer)?;
        self.process_response(&request, response)
    }
}

/// The typed request kept in `prepared` by [`DynUi::prepare`] of `U`.
fn typed_request<U: Ui>(prepared: Prepared) -> Result<Box<U::Request>, UiError> {
    prepared
        .typed
        .downcast::<U::Request>()
        .map_err(|_| UiError::general("internal error: the prepared request has another type"))
}

fn unexpected_answer(err: serde_json::Error) -> UiError {
    UiError::general(format!("the service's answer has an unexpected shape: {err}"))
}

/// The GUI generated for a loaded spec with no hand-written `Ui`: from its tensor signature when it has
/// one (an ONNX model: image uploads, number fields, ranked classes), else from its request and
/// response schemas with their `x-easymlserve-widget` overrides. An override it cannot honour is an
/// error naming the field.
pub fn try_generated_ui(spec: &easymlserve_core::ServiceSpec) -> Result<std::sync::Arc<dyn DynUi>, UiError> {
    match TensorUi::from_spec(spec) {
        Some(ui) => Ok(std::sync::Arc::new(ui)),
        None => Ok(std::sync::Arc::new(SchemaUi::from_spec(spec)?)),
    }
}

/// [`try_generated_ui`], where a refused override gives a GUI that says why: its description
/// carries the error (field and reason) and every submit answers with it.
pub fn generated_ui(spec: &easymlserve_core::ServiceSpec) -> std::sync::Arc<dyn DynUi> {
    try_generated_ui(spec).unwrap_or_else(|error| std::sync::Arc::new(schema_ui::Refused(error)))
}
