//! "Use via API" in the desktop window (issue 18 item 5), driven headless with egui_kittest against
//! echo on 127.0.0.1 with API keys on: after a submit of a text with a shell quote, a JSON quote, a
//! backslash and non-ASCII, the panel's curl and Python snippets carry the exact request (parsed back out of them)
//! and the key only as a placeholder; the Python snippet, key filled in, runs with a real `requests`
//! (the `oip-clients` virtualenv that `scripts/test` makes) and gets the window's answer.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::sync::Arc;
use std::time::{Duration, Instant};

use easymlserve_desktop::{DesktopApp, KEY_PLACEHOLDER};
use easymlserve_server::{ApiKeys, Server, ServerConfig};
use easymlserve_ui::{OutputValue, SchemaUi};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use serde_json::{Value, json};

const KEY: &str = "s3cret-key";
const TEXT: &str = r#"o'clock "café" \ "#;

fn snippet_text(harness: &Harness<'_, DesktopApp>, language: &str) -> String {
    let label = format!("{language} snippet");
    let node = harness.get_by_label(&label);
    node.accesskit_node().value().unwrap_or_default().to_string()
}

#[test]
fn the_snippets_send_the_request_just_sent_with_a_placeholder_key() {
    let config = ServerConfig {
        api_keys: ApiKeys::parse_list(KEY),
        ..ServerConfig::default()
    };
    let (url, _server) = easymlserve_testkit::serve_blocking(Server::new(echo::Echo).config(config));
    let ui = SchemaUi::for_service(&echo::Echo).unwrap();
    let app = DesktopApp::new(Arc::new(ui), url.clone(), Some(KEY.to_owned()));
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1200.0, 1400.0))
        .build_ui_state(|ui, app: &mut DesktopApp| app.ui(ui), app);
    assert!(harness.query_by_label("Use via API").is_none(), "nothing sent yet");
    let text = harness.get_by_label("Text *");
    text.focus();
    text.set_text_value_accesskit(TEXT);
    harness.run_steps(2);
    harness.get_by_label("Submit").click();
    let started = Instant::now();
    harness.step();
    while harness.state().is_busy() {
        assert!(started.elapsed() < Duration::from_secs(30), "no answer within 30 s");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(3);
    assert_eq!(harness.state().banner(), None);
    let Some(OutputValue::Text(echoed)) = harness.state().outputs().get("text").cloned() else {
        panic!("no echo: {:?}", harness.state().outputs())
    };

    harness.get_by_label("Use via API").click();
    harness.run_steps(3);
    let sent = json!({"text": TEXT, "repeat": 1});
    let curl = snippet_text(&harness, "curl");
    assert!(curl.starts_with(&format!("curl -X POST '{url}/process'")), "{curl}");
    assert!(curl.contains(&format!("X-API-Key: {KEY_PLACEHOLDER}")), "{curl}");
    assert!(
        !curl.contains(KEY),
        "the key typed into the window is not shown: {curl}"
    );
    let quoted = curl.split_once("-d '").unwrap().1.strip_suffix('\'').unwrap();
    let body: Value = serde_json::from_str(&quoted.replace(r"'\''", "'")).unwrap();
    assert_eq!(body, sent, "the exact request");

    harness.get_by_label("Python").click();
    harness.run_steps(3);
    let python = snippet_text(&harness, "Python");
    assert!(python.contains(KEY_PLACEHOLDER) && !python.contains(KEY), "{python}");
    let Some(venv) = std::env::var_os("EASYMLSERVE_TEST_VENV_OIP_CLIENTS") else {
        eprintln!("skipped the Python run: EASYMLSERVE_TEST_VENV_OIP_CLIENTS is not set; scripts/test creates it");
        return;
    };
    let script = python.replace(KEY_PLACEHOLDER, KEY).replace(
        "print(response.json())",
        "import json\nprint(json.dumps(response.json()))",
    );
    let out = std::process::Command::new(std::path::Path::new(&venv).join("bin/python"))
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        answer["text"],
        Value::from(echoed),
        "the snippet gets the window's answer"
    );
}
