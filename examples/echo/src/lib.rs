//! The echo service: the smallest complete easymlserve service, used by the quickstart, the tests and
//! the benchmark. Run it with `cargo run -p echo`. It has no UI code: its GUI is generated from the
//! request and response types below (labels and help from the doc comments, the slider's bounds and
//! default from the attributes).

use easymlserve::prelude::*;

/// What to echo.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EchoRequest {
    /// The text to repeat.
    pub text: String,
    /// How many times to repeat it, 1 to 10.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 10))]
    pub repeat: u32,
}

fn one() -> u32 {
    1
}

/// The echoed text.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct EchoResponse {
    /// The text, repeated.
    pub text: String,
}

/// Repeats a text.
pub struct Echo;

impl Service for Echo {
    type Request = EchoRequest;
    type Response = EchoResponse;

    fn info(&self) -> ServiceInfo {
        ServiceInfo::new("echo")
            .version(env!("CARGO_PKG_VERSION"))
            .description("Repeats a text 1 to 10 times.")
    }

    fn process(&self, request: EchoRequest) -> Result<EchoResponse, ServiceError> {
        Ok(EchoResponse {
            text: request.text.repeat(request.repeat as usize),
        })
    }

    /// Repeating a text takes microseconds: answer where the request was read, with no hand-off to a
    /// worker thread.
    fn runs_inline(&self) -> bool {
        true
    }

    fn example_request(&self) -> Option<easymlserve::serde_json::Value> {
        Some(easymlserve::serde_json::json!({"text": "hello ", "repeat": 3}))
    }
}
