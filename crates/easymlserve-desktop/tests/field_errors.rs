//! The desktop window shows a 422 that names a request field in red under the input that produced
//! it, driven headless with egui_kittest: the server's validation (`repeat` over the schema's bound,
//! which the form lets through; `points[2]` of a list another input fills) and the model's refusal,
//! over REST and with a server's state in process (as a job); a field no input made goes on top, and
//! changing the input clears its message.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

#[path = "../../easymlserve-web/tests/support/field_errors_fixture.rs"]
mod fixture;

use std::sync::Arc;
use std::time::{Duration, Instant};

use easymlserve_desktop::DesktopApp;
use easymlserve_server::{AppState, Server, ServerConfig, TypedBackend};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use fixture::{Repeat, RepeatUi};

fn harness(app: DesktopApp) -> Harness<'static, DesktopApp> {
    Harness::builder()
        .with_size(egui::vec2(1200.0, 900.0))
        .build_ui_state(|ui, app: &mut DesktopApp| app.ui(ui), app)
}

fn set(harness: &Harness<'_, DesktopApp>, label: &str, text: &str) {
    let node = harness.get_by_label(label);
    node.focus();
    node.set_text_value_accesskit(text);
}

/// Fills the form, submits it and steps the window until the answer is in.
fn submit(harness: &mut Harness<'_, DesktopApp>, text: &str, repeat: &str, numbers: &str) {
    set(harness, "Text *", text);
    set(harness, "Repeat *", repeat);
    set(harness, "Numbers *", numbers);
    harness.run_steps(2);
    harness.get_by_label("Submit").click();
    harness.step();
    let started = Instant::now();
    while harness.state().is_busy() {
        assert!(started.elapsed() < Duration::from_secs(30), "no answer within 30 s");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(3);
}

/// The message is the only field error, drawn under the input `label` and above the next one.
fn assert_under(harness: &Harness<'_, DesktopApp>, name: &str, label: &str, next: &str, needle: &str) {
    let app = harness.state();
    let message = app
        .field_error(name)
        .unwrap_or_else(|| panic!("no error under `{name}`; banner {:?}", app.banner()));
    assert!(
        message.contains(needle),
        "`{name}` shows {message:?}, wanted {needle:?}"
    );
    assert_eq!(app.banner(), None, "the message is not on top");
    for other in ["text", "repeat", "numbers"].into_iter().filter(|n| *n != name) {
        assert_eq!(app.field_error(other), None, "`{other}` shows no error");
    }
    let shown = harness.get_by_label(message).rect();
    let input = harness.get_by_label(label).rect();
    let below = harness.get_by_label(next).rect();
    assert!(
        shown.top() >= input.bottom() && shown.bottom() <= below.top(),
        "the message {shown:?} is under `{label}` {input:?} and above `{next}` {below:?}"
    );
}

fn errors_land_under_their_inputs(harness: &mut Harness<'_, DesktopApp>) {
    submit(harness, "ab", "7", "1,2");
    assert_under(harness, "repeat", "Repeat *", "Numbers *", "repeat");

    // Changing the input takes its message away.
    set(harness, "Repeat *", "3");
    harness.run_steps(2);
    assert_eq!(
        harness.state().field_error("repeat"),
        None,
        "a change clears the message"
    );

    submit(harness, "ab", "2", "1, 2, 300");
    assert_under(harness, "numbers", "Numbers *", "Submit", "points[2]");

    submit(harness, "forbidden", "2", "1");
    assert_under(harness, "text", "Text *", "Repeat *", "this word is not allowed");

    submit(harness, "elsewhere", "2", "1");
    let app = harness.state();
    assert!(
        app.banner().is_some_and(|b| b.contains("the mode is off today")),
        "{:?}",
        app.banner()
    );
    assert_eq!(app.field_error("text"), None);
}

#[test]
fn errors_from_a_service_over_rest_land_under_their_inputs() {
    let (url, _server) = easymlserve_testkit::serve_blocking(Server::new(Repeat));
    let mut harness = harness(DesktopApp::new(Arc::new(RepeatUi), url, None));
    errors_land_under_their_inputs(&mut harness);
}

#[test]
fn errors_of_a_job_in_process_land_under_their_inputs() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let state = runtime.block_on(async {
        let state = AppState::new(Box::new(TypedBackend::new(Repeat)), &ServerConfig::default(), None);
        state.load().await.unwrap();
        state
    });
    let mut harness = harness(DesktopApp::with_caller(Arc::new(RepeatUi), Arc::new(state)));
    errors_land_under_their_inputs(&mut harness);
}
