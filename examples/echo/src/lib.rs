//! The echo service: the smallest complete easymlserve service, used by the quickstart, the tests and
//! the benchmark. Run it with `cargo run -p echo`. It has no UI code: its GUI is generated from the
//! request and response types below (labels and help from the doc comments, the slider's bounds and
//! default from the attributes, the two examples to click from the `example` attributes).

use easymlserve::prelude::*;

/// What to echo.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(example = EchoRequest::new("hello ", 3), example = EchoRequest::new("Karlsruhe! ", 2))]
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

impl EchoRequest {
    /// A request to repeat `text` `repeat` times.
    pub fn new(text: &str, repeat: u32) -> Self {
        Self {
            text: text.to_owned(),
            repeat,
        }
    }
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

    /// The first of the schema's examples, for `/docs` and the OpenAPI document.
    fn example_request(&self) -> Option<easymlserve::serde_json::Value> {
        easymlserve::serde_json::to_value(EchoRequest::new("hello ", 3)).ok()
    }
}
