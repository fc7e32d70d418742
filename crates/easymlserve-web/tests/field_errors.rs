//! A 422 that names a request field lands next to the input that produced it, in headless Chromium
//! against a real server co-hosting the GUI: the server's own validation (`repeat` over the schema's
//! bound, which the form lets through; `points[2]` of a list one text input fills) and the model's
//! refusal (`ServiceError::invalid_field("text", ..)`), both for a plain submit and for a job. A field
//! no input produced shows above the form.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

#[path = "support/field_errors_fixture.rs"]
mod fixture;

use std::sync::Arc;

use easymlserve_core::{BoxFuture, CallError, ServiceCaller};
use easymlserve_server::{Mount, Server};
use easymlserve_testkit::{Browser, serve};
use easymlserve_web::{PageInfo, UiRunner, ui_routes};
use fixture::{Repeat, RepeatUi};
use serde_json::Value;

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
