//! A 422 that names a request field lands next to the input that produced it, in headless Chromium
//! against a real server co-hosting the GUI: the server's own validation (`repeat` over the schema's
//! bound, which the form lets through; `points[2]` of a list one text input fills) and the model's
//! refusal (`ServiceError::invalid_field("text", ..)`), both for a plain submit and for a job. A field
//! no input produced shows above the form.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::sync::Arc;

use easymlserve_core::schemars::JsonSchema;
use easymlserve_core::{BoxFuture, CallError, Service, ServiceCaller, ServiceError};
use easymlserve_server::{Mount, Server};
use easymlserve_testkit::{Browser, serve};
use easymlserve_ui::{Input, InputValues, Output, OutputValue, OutputValues, Ui, UiError, field};
use easymlserve_web::{PageInfo, UiRunner, ui_routes};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Serialize, Deserialize, JsonSchema)]
struct Req {
    text: String,
    #[schemars(range(min = 1, max = 5))]
    repeat: u32,
    points: Vec<Point>,
}

#[derive(Serialize, Deserialize, JsonSchema)]
struct Point(#[schemars(range(max = 100))] u32);

#[derive(Serialize, Deserialize, JsonSchema)]
struct Resp {
    text: String,
}

/// Repeats the text; refuses the word `forbidden` in `text`, and `elsewhere` in a field no input makes.
struct Repeat;

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
struct RepeatUi;

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

/// The in-process caller without its jobs, so the page submits with `/ui/submit`.
struct PlainOnly(Arc<dyn ServiceCaller>);

impl ServiceCaller for PlainOnly {
    fn call(&self, request: Value) -> BoxFuture<'_, Result<Value, CallError>> {
        self.0.call(request)
    }
}

/// A server with the GUI at `/ui/`; `jobs` says whether the page submits jobs.
async fn start(jobs: bool) -> String {
    let server = Server::new(Repeat).mount(move |ctx| {
        let page = PageInfo {
            process_url: None,
            auth_required: ctx.auth_required,
        };
        let caller: Arc<dyn ServiceCaller> = if jobs {
            ctx.caller
        } else {
            Arc::new(PlainOnly(ctx.caller))
        };
        let routes = ui_routes(Arc::new(UiRunner::new(
            Arc::new(RepeatUi),
            caller,
            page,
            ctx.body_limit,
        )));
        Mount {
            public: routes.public,
            protected: Some(routes.protected),
            home: Some("/ui/".to_owned()),
        }
    });
    serve(server).await
}

/// Fills the form and submits it; waits until the page says it failed.
async fn submit_failing(browser: &Browser, text: &str, repeat: u32, numbers: &str) {
    let script = format!(
        "const set = (id, v) => {{ const n = document.getElementById(id); n.value = v; n.dispatchEvent(new Event('input', {{ bubbles: true }})); }};
         set('in-text', {text:?}); set('in-repeat', '{repeat}'); set('in-numbers', {numbers:?});"
    );
    browser.js(&script).await;
    browser.click("#submit").await;
    browser.wait_for_text("#status", "Failed").await;
}

/// Where the page shows a message, read from the DOM: which fields carry one, whether it follows the
/// input inside the input's container, the input's aria-invalid and aria-describedby, the focused
/// element, and the general error area.
async fn shown(browser: &Browser, name: &str) -> Value {
    let script = format!(
        "const name = {name:?};
         const field = document.getElementById('field-' + name);
         const input = document.getElementById('in-' + name);
         const error = document.getElementById('err-' + name);
         const banner = document.getElementById('banner');
         return {{
           message: error.textContent,
           inside: field.contains(error) && field.contains(input),
           below: Boolean(input.compareDocumentPosition(error) & Node.DOCUMENT_POSITION_FOLLOWING),
           invalid: input.getAttribute('aria-invalid'),
           described: (input.getAttribute('aria-describedby') || '').split(' ').includes(error.id),
           focused: document.activeElement === input,
           others: [...document.querySelectorAll('.field .error')].filter((e) => e.textContent && e !== error).map((e) => e.id),
           banner: banner.hidden ? '' : banner.textContent,
         }};"
    );
    browser.js(&script).await
}

fn assert_next_to(shown: &Value, name: &str, needle: &str) {
    let message = shown["message"].as_str().unwrap();
    assert!(
        message.contains(needle),
        "`{name}` shows {message:?}, wanted {needle:?}: {shown}"
    );
    assert_eq!(
        shown["inside"], true,
        "the message is in the input's container: {shown}"
    );
    assert_eq!(shown["below"], true, "the message comes after the input: {shown}");
    assert_eq!(shown["invalid"], "true", "aria-invalid: {shown}");
    assert_eq!(shown["described"], true, "aria-describedby names the message: {shown}");
    assert_eq!(shown["focused"], true, "the input has the focus: {shown}");
    assert_eq!(
        shown["others"],
        serde_json::json!([]),
        "no other input shows an error: {shown}"
    );
    assert_eq!(shown["banner"], "", "the general area is empty: {shown}");
}

/// Every case on one page, so the second case also checks that a submit clears the first message.
async fn errors_land_on_their_inputs(jobs: bool) {
    let url = start(jobs).await;
    let browser = Browser::start(1200, 900).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    let spec: Value = reqwest::get(format!("{url}/ui/spec"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        spec["jobs"],
        jobs,
        "the page submits {}",
        if jobs { "jobs" } else { "plainly" }
    );

    // The server's validation: the schema allows 1 to 5, the form 9.
    submit_failing(&browser, "ab", 7, "1,2").await;
    let repeat = shown(&browser, "repeat").await;
    assert_next_to(&repeat, "repeat", "repeat");
    // Changing the input takes its message away.
    browser
        .js("const n = document.getElementById('in-repeat'); n.value = '2'; n.dispatchEvent(new Event('input', { bubbles: true }));")
        .await;
    let cleared = shown(&browser, "repeat").await;
    assert_eq!(
        (&cleared["message"], &cleared["invalid"]),
        (&Value::from(""), &Value::from("false"))
    );

    // The server's validation of a list element, `points[2]`, which the `numbers` input fills.
    submit_failing(&browser, "ab", 2, "1, 2, 300").await;
    assert_next_to(&shown(&browser, "numbers").await, "numbers", "points[2]");
    assert_eq!(
        shown(&browser, "repeat").await["message"],
        "",
        "the last submit cleared it"
    );

    // The model's own refusal, naming `text`.
    submit_failing(&browser, "forbidden", 2, "1").await;
    assert_next_to(&shown(&browser, "text").await, "text", "this word is not allowed");

    // A field no input produced: the general area.
    submit_failing(&browser, "elsewhere", 2, "1").await;
    let text = shown(&browser, "text").await;
    assert_eq!(text["message"], "", "{text}");
    assert_eq!(text["others"], serde_json::json!([]), "{text}");
    assert!(
        text["banner"].as_str().unwrap().contains("the mode is off today"),
        "{text}"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_of_a_plain_submit_land_on_their_inputs() {
    errors_land_on_their_inputs(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_of_a_job_land_on_their_inputs() {
    errors_land_on_their_inputs(true).await;
}
