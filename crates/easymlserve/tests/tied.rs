//! A `Ui` is tied to its service (issue 17, item 2): attaching a GUI whose request and response types
//! are not the service's is a compile error (trybuild, with the expected compiler message checked in
//! under tests/ui/), a matching one and any Ui on a run-time typed backend compile, and a Ui without
//! its own title and description shows the service's `info()` ones, in `/ui/spec` and `/api/spec`.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use easymlserve::prelude::*;
use easymlserve_testkit::serve;

#[test]
fn with_ui_compiles_only_for_a_ui_of_the_services_types() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/matching.rs");
    cases.compile_fail("tests/ui/mismatch.rs");
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Numbers {
    x: f64,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Doubled {
    y: f64,
}

/// A service that names and describes itself.
struct Doubler;

impl Service for Doubler {
    type Request = Numbers;
    type Response = Doubled;
    fn info(&self) -> ServiceInfo {
        ServiceInfo {
            name: "Doubler".to_owned(),
            version: "1.0.0".to_owned(),
            description: "Doubles a number.".to_owned(),
        }
    }
    fn process(&self, request: Numbers) -> Result<Doubled, ServiceError> {
        Ok(Doubled { y: 2.0 * request.x })
    }
}

/// A Ui with or without its own title; it never describes itself.
struct DoublerUi {
    title: &'static str,
}

impl Ui for DoublerUi {
    type Request = Numbers;
    type Response = Doubled;
    fn title(&self) -> String {
        self.title.to_owned()
    }
    fn inputs(&self) -> Vec<Input> {
        vec![Input::number("x", "x", false)]
    }
    fn outputs(&self) -> Vec<Output> {
        vec![Output::number("y", "y")]
    }
    fn prepare_request(&self, inputs: &InputValues) -> Result<Numbers, UiError> {
        Ok(Numbers {
            x: inputs.number("x")?.unwrap_or_default(),
        })
    }
    fn process_response(&self, _: &Numbers, response: Doubled) -> Result<OutputValues, UiError> {
        Ok(OutputValues::new().with("y", OutputValue::Number(response.y)))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ui_without_texts_shows_the_services_name_and_description() {
    let http = reqwest::Client::new();
    for (own, title) in [("", "Doubler"), ("My doubler", "My doubler")] {
        let url = serve(Server::new(Doubler).with_ui(DoublerUi { title: own })).await;
        let page: serde_json::Value = http
            .get(format!("{url}/ui/spec"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["title"], title, "{page}");
        assert_eq!(page["description"], "Doubles a number.", "{page}");
        let api: serde_json::Value = http
            .get(format!("{url}/api/spec"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(api["ui"]["title"], title, "{api}");
        assert_eq!(api["ui"]["description"], "Doubles a number.", "{api}");
    }
}
