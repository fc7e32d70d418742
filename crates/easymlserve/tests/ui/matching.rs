//! What `with_ui` accepts: on a typed service a Ui with its request and response types; on a server
//! of a backend (`Server<Dynamic>`, types known at run time) any Ui, here one of raw JSON.

use easymlserve::prelude::*;
use easymlserve::server::Dynamic;
use easymlserve::serde_json::{Value, json};

#[derive(Serialize, Deserialize, JsonSchema)]
struct EchoRequest {
    text: String,
}

#[derive(Serialize, Deserialize, JsonSchema)]
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

struct EchoUi;

impl Ui for EchoUi {
    type Request = EchoRequest;
    type Response = EchoResponse;
    fn inputs(&self) -> Vec<Input> {
        vec![Input::text("text", "Text")]
    }
    fn outputs(&self) -> Vec<Output> {
        vec![Output::text("text", "Echo")]
    }
    fn prepare_request(&self, inputs: &InputValues) -> Result<EchoRequest, UiError> {
        Ok(EchoRequest { text: inputs.text("text")?.unwrap_or_default().to_owned() })
    }
    fn process_response(&self, _: &EchoRequest, response: EchoResponse) -> Result<OutputValues, UiError> {
        Ok(OutputValues::new().with("text", OutputValue::Text(response.text)))
    }
}

/// A Ui of raw JSON, as one for a Python service would be.
struct JsonUi;

impl Ui for JsonUi {
    type Request = Value;
    type Response = Value;
    fn inputs(&self) -> Vec<Input> {
        vec![Input::text("text", "Text")]
    }
    fn outputs(&self) -> Vec<Output> {
        vec![Output::text("text", "Answer")]
    }
    fn prepare_request(&self, inputs: &InputValues) -> Result<Value, UiError> {
        Ok(json!({ "text": inputs.text("text")?.unwrap_or_default() }))
    }
    fn process_response(&self, _: &Value, response: Value) -> Result<OutputValues, UiError> {
        Ok(OutputValues::new().with("text", OutputValue::Text(response.to_string())))
    }
}

fn on_a_backend(server: Server<Dynamic>) -> Server<Dynamic> {
    server.with_ui(JsonUi).with_ui(EchoUi)
}

fn main() {
    let _typed = Server::new(Echo).with_ui(EchoUi);
    let _ = on_a_backend;
}
