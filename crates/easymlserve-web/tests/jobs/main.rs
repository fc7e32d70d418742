//! Jobs in the web GUI: `/ui/jobs` and its event stream over HTTP with a scripted job caller
//! (`routes`), and the page's progress bar, Cancel, resume and reload in headless Chromium against a
//! real server co-hosting the GUI for a slow model (`browser`). One binary, one module per area.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod browser;
mod routes;

use std::time::Duration;

use easymlserve_core::schemars::JsonSchema;
use easymlserve_core::{Context, Service, ServiceError};
use easymlserve_ui::{Input, InputValues, Output, OutputValue, OutputValues, Ui, UiError};
use serde::{Deserialize, Serialize};

/// The request of the slow model: `steps` steps of `step_ms` milliseconds each.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct StepsRequest {
    text: String,
    steps: u32,
    step_ms: u64,
}

/// Its answer: the text, upper-cased.
#[derive(Serialize, Deserialize, JsonSchema)]
pub struct StepsResponse {
    text: String,
}

/// A slow model that reports its progress after every step and stops when canceled.
pub struct Steps;

impl Service for Steps {
    type Request = StepsRequest;
    type Response = StepsResponse;

    fn process(&self, request: StepsRequest) -> Result<StepsResponse, ServiceError> {
        self.process_with(request, &Context::detached())
    }

    fn process_with(&self, request: StepsRequest, ctx: &Context) -> Result<StepsResponse, ServiceError> {
        for step in 1..=request.steps {
            ctx.check_cancelled()?;
            std::thread::sleep(Duration::from_millis(request.step_ms));
            let fraction = f64::from(step) / f64::from(request.steps);
            ctx.progress(fraction, format!("step {step} of {}", request.steps));
        }
        Ok(StepsResponse {
            text: request.text.to_uppercase(),
        })
    }
}

/// The form of the slow model.
pub struct StepsUi;

impl Ui for StepsUi {
    type Request = StepsRequest;
    type Response = StepsResponse;

    fn inputs(&self) -> Vec<Input> {
        vec![
            Input::text("text", "Text"),
            Input::number("steps", "Steps", true).bounds(1.0, 1000.0),
            Input::number("step_ms", "Milliseconds per step", true).bounds(0.0, 10_000.0),
        ]
    }

    fn outputs(&self) -> Vec<Output> {
        vec![Output::text("out", "Out")]
    }

    fn prepare_request(&self, inputs: &InputValues) -> Result<StepsRequest, UiError> {
        Ok(StepsRequest {
            text: inputs.text("text")?.unwrap_or("").to_owned(),
            steps: inputs.number("steps")?.unwrap_or(1.0) as u32,
            step_ms: inputs.number("step_ms")?.unwrap_or(0.0) as u64,
        })
    }

    fn process_response(&self, _: &StepsRequest, response: StepsResponse) -> Result<OutputValues, UiError> {
        Ok(OutputValues::new().with("out", OutputValue::Text(response.text)))
    }
}
