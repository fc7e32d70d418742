//! The `{{name}}` service: a small linear model that predicts an exam score from hours of study and
//! sleep. Replace the model with yours; the doc comments and bounds on the request fields become the
//! labels, descriptions and slider ranges of the generated GUI, and the server checks the bounds.

use easymlserve::prelude::*;

/// One student's week.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// Hours spent studying per day.
    #[schemars(range(min = 0, max = 16))]
    pub study_hours: f64,
    /// Hours of sleep per night.
    #[serde(default = "default_sleep")]
    #[schemars(range(min = 0, max = 14))]
    pub sleep_hours: f64,
}

fn default_sleep() -> f64 {
    8.0
}

/// The prediction.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct Response {
    /// The predicted exam score, 0 to 100.
    pub score: f64,
}

/// The model: loaded once, then shared by every request.
pub struct Model {
    weights: [f64; 2],
    bias: f64,
}

impl Model {
    /// Loads the model. A real service reads its weights from a file here.
    #[must_use]
    pub fn load() -> Self {
        Self {
            weights: [4.5, 2.0],
            bias: 20.0,
        }
    }
}

impl Service for Model {
    type Request = Request;
    type Response = Response;

    fn info(&self) -> ServiceInfo {
        ServiceInfo::new("{{name}}")
            .version(env!("CARGO_PKG_VERSION"))
            .description("Predicts an exam score from hours of study and sleep.")
    }

    fn process(&self, request: Request) -> Result<Response, ServiceError> {
        let raw = self.weights[0] * request.study_hours + self.weights[1] * request.sleep_hours + self.bias;
        Ok(Response {
            score: raw.clamp(0.0, 100.0),
        })
    }

    fn example_request(&self) -> Option<easymlserve::serde_json::Value> {
        Some(easymlserve::serde_json::json!({"study_hours": 6.0, "sleep_hours": 8.0}))
    }
}
