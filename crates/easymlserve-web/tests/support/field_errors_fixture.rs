//! The service and form both GUIs' field-error tests drive (web: `tests/field_errors.rs`, desktop:
//! `crates/easymlserve-desktop/tests/field_errors.rs`, which includes this file by path): a schema bound
//! the form lets through (`repeat` up to 9 in the form, 5 in the schema), a list one text input fills
//! (`points`, from `numbers`), and model refusals of a field an input made (`text`) and of one none did.

use easymlserve_core::schemars::JsonSchema;
use easymlserve_core::{Service, ServiceError};
use easymlserve_ui::{Input, InputValues, Output, OutputValue, OutputValues, Ui, UiError, field};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Req {
    text: String,
    #[schemars(range(min = 1, max = 5))]
    repeat: u32,
    points: Vec<Point>,
}

#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Point(#[schemars(range(max = 100))] u32);

#[derive(Serialize, Deserialize, JsonSchema)]
pub struct Resp {
    text: String,
}

/// Repeats the text; refuses the word `forbidden` in `text`, and `elsewhere` in a field no input makes.
pub struct Repeat;

impl Service for Repeat {
    type Request = Req;
    type Response = Resp;
    fn process(&self, r: Req) -> Result<Resp, ServiceError> {
        match r.text.as_str() {
            "forbidden" => Err(ServiceError::invalid_field("text", "this word is not allowed")),
            "elsewhere" => Err(ServiceError::invalid_field("settings.mode", "the mode is off today")),
            _ => Ok(Resp {
                text: r.text.repeat(r.repeat as usize),
            }),
        }
    }
}

/// Its form: the number field allows up to 9 (the schema 5), and one text input fills `points`.
pub struct RepeatUi;

impl Ui for RepeatUi {
    type Request = Req;
    type Response = Resp;
    fn inputs(&self) -> Vec<Input> {
        vec![
            Input::text("text", "Text"),
            Input::number("repeat", "Repeat", true).bounds(1.0, 9.0),
            Input::text("numbers", "Numbers").description("Comma-separated whole numbers."),
        ]
    }
    fn outputs(&self) -> Vec<Output> {
        vec![Output::text("out", "Out")]
    }
    fn prepare_request(&self, inputs: &InputValues) -> Result<Req, UiError> {
        let numbers = inputs.text("numbers")?.unwrap_or("");
        let points = numbers
            .split(',')
            .filter(|n| !n.trim().is_empty())
            .map(|n| n.trim().parse().map(Point))
            .collect::<Result<_, _>>()
            .map_err(|_| UiError::field("numbers", "enter whole numbers separated by commas"))?;
        Ok(Req {
            text: inputs.text("text")?.unwrap_or("").to_owned(),
            repeat: inputs.number("repeat")?.unwrap_or(1.0) as u32,
            points,
        })
    }
    fn process_response(&self, _: &Req, r: Resp) -> Result<OutputValues, UiError> {
        Ok(OutputValues::new().with("out", OutputValue::Text(r.text)))
    }
    fn input_for_field(&self, path: &str) -> Option<String> {
        match field::top_level(path) {
            "points" => Some("numbers".to_owned()),
            _ => field::input_named_by(path, &self.inputs()),
        }
    }
}
