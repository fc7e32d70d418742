//! A Python service's generated GUI with a per-field override set from Python (`easymlserve.widget`,
//! python/tests/services/widgets.py), served by the real `easymlserve serve --python`: the override
//! (a slider in steps of 5) and the widgets taken from the schema (bounds, default, description, the
//! number list, the output's unit) are in `/api/spec`, and a submit through `/ui/submit` runs it.
//!
//! The workers run the interpreter of `EASYMLSERVE_TEST_VENV_PYDANTIC2` (scripts/test sets it); without
//! it the test says it is skipped.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::PathBuf;
use std::time::Duration;

use easymlserve::serde_json::{Value, json};
use easymlserve_python_tests::{PythonServer, serves_python};

fn python() -> Option<PathBuf> {
    match std::env::var_os("EASYMLSERVE_TEST_VENV_PYDANTIC2") {
        Some(venv) if !venv.is_empty() => Some(PathBuf::from(venv).join("bin/python")),
        _ => {
            eprintln!("skipped: EASYMLSERVE_TEST_VENV_PYDANTIC2 is not set; scripts/test sets it");
            None
        }
    }
}

fn by_name<'a>(list: &'a Value, name: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|i| i["name"] == name).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_override_shapes_the_generated_gui() {
    let Some(python) = python().filter(|_| serves_python()) else {
        return;
    };
    let mut server = PythonServer::start("python/tests/services/widgets.py", &python, 1, &[]);
    server.wait_ready(Duration::from_secs(60)).await;
    let client = reqwest::Client::new();
    let spec: Value = client
        .get(format!("{}/api/spec", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ui = &spec["ui"];
    let repeat = by_name(&ui["inputs"], "repeat");
    assert_eq!(
        (
            &repeat["kind"],
            &repeat["min"],
            &repeat["max"],
            &repeat["step"],
            &repeat["default"]
        ),
        (&json!("range"), &json!(0.0), &json!(50.0), &json!(5.0), &json!(2.0)),
        "{repeat}\n{}",
        server.log()
    );
    assert_eq!(repeat["description"], "How often.");
    let text = by_name(&ui["inputs"], "text");
    assert_eq!((&text["kind"], &text["required"]), (&json!("text"), &json!(true)));
    assert_eq!(by_name(&ui["inputs"], "weights")["kind"], "text_long");
    let length = by_name(&ui["outputs"], "length");
    assert_eq!((&length["kind"], &length["unit"]), (&json!("number"), &json!("chars")));

    let form = reqwest::multipart::Form::new()
        .text("text", "ab")
        .text("repeat", "10")
        .text("weights", "1, 2");
    let answer: Value = client
        .post(format!("{}/ui/submit", server.url))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let outputs = answer["outputs"].as_array().unwrap_or_else(|| panic!("{answer}"));
    let value = |name: &str| outputs.iter().find(|o| o["name"] == name).map(|o| o["value"].clone());
    assert_eq!(value("text"), Some(json!("ab".repeat(10))), "{answer}");
    assert_eq!(value("length"), Some(json!(20.0)), "{answer}");
}
