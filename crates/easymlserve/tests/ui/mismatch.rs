//! A GUI for the forecasting service attached to the echo service: must not compile.

use easymlserve::prelude::*;

#[derive(Deserialize, JsonSchema)]
struct EchoRequest {
    text: String,
}

#[derive(Serialize, JsonSchema)]
struct EchoResponse {
    text: String,
}

struct Echo;

impl Service for Echo {
    type Request = EchoRequest;
    type Response = EchoResponse;
    fn process(&self, request: EchoRequest) -> Result<EchoResponse, ServiceError> {
        Ok(EchoResponse { text: request.text })
    }
}

#[derive(Serialize, Deserialize)]
struct ForecastRequest {
    hours: u32,
}

#[derive(Deserialize)]
struct ForecastResponse {
    load: Vec<f64>,
}

struct ForecastUi;

impl Ui for ForecastUi {
    type Request = ForecastRequest;
    type Response = ForecastResponse;
    fn inputs(&self) -> Vec<Input> {
        vec![Input::number("hours", "Hours", true)]
    }
    fn outputs(&self) -> Vec<Output> {
        vec![Output::number("first", "First hour")]
    }
    fn prepare_request(&self, inputs: &InputValues) -> Result<ForecastRequest, UiError> {
        let hours = inputs.number("hours")?.unwrap_or(24.0) as u32;
        Ok(ForecastRequest { hours })
    }
    fn process_response(&self, _: &ForecastRequest, response: ForecastResponse) -> Result<OutputValues, UiError> {
        let first = response.load.first().copied().unwrap_or_default();
        Ok(OutputValues::new().with("first", OutputValue::Number(first)))
    }
}

fn main() {
    let _server = Server::new(Echo).with_ui(ForecastUi);
}
