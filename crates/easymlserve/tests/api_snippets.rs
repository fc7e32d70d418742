//! The web page's "use via API" panel (issue 18, item 5): after a submission it offers curl, Python
//! (`requests`), JavaScript (`fetch`) and Rust (`easymlserve::Client`) snippets for the exact request
//! just sent. Headless Chromium reads each snippet off the page; the test parses the request JSON back
//! out of each (with a quote and non-ASCII text in it), checks the URL, runs the Python snippet with a
//! real `requests` (the `oip-clients` virtualenv that `scripts/test` makes) and the JavaScript one in
//! the page, and compares their answers with the page's. With API keys on, the snippets carry the
//! `X-API-Key` header with a placeholder, never the key typed into the page, and the Rust snippet (key
//! filled in) is built and run against the server with trybuild.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use easymlserve::prelude::*;
use easymlserve::serde_json::{self, Value, json};
use easymlserve::{ApiKeys, ServerConfig};
use easymlserve_testkit::{Browser, serve};

/// A label with a shell quote, a JSON quote, a backslash, a `"#` (Rust raw strings) and non-ASCII.
const LABEL: &str = r##"o'clock "café" \ "# ✓"##;
const KEY: &str = "s3cret-key";

#[derive(Deserialize, Serialize, JsonSchema)]
struct Scale {
    x: f64,
    label: String,
    loud: bool,
}

#[derive(Deserialize, Serialize, JsonSchema)]
struct Scaled {
    y: f64,
    label: String,
}

struct Triple;

impl Service for Triple {
    type Request = Scale;
    type Response = Scaled;
    fn process(&self, request: Scale) -> Result<Scaled, ServiceError> {
        let label = if request.loud {
            request.label.to_uppercase()
        } else {
            request.label
        };
        Ok(Scaled {
            y: 3.0 * request.x,
            label,
        })
    }
}

struct TripleUi;

impl Ui for TripleUi {
    type Request = Scale;
    type Response = Scaled;
    fn inputs(&self) -> Vec<Input> {
        vec![Input::number("x", "x", false), Input::text("label", "Label")]
    }
    fn outputs(&self) -> Vec<Output> {
        vec![Output::number("y", "3 x"), Output::text("label", "Label")]
    }
    fn prepare_request(&self, inputs: &InputValues) -> Result<Scale, UiError> {
        Ok(Scale {
            x: inputs.number("x")?.unwrap_or_default(),
            label: inputs.text("label")?.unwrap_or_default().to_owned(),
            loud: true,
        })
    }
    fn process_response(&self, _: &Scale, response: Scaled) -> Result<OutputValues, UiError> {
        Ok(OutputValues::new()
            .with("y", OutputValue::Number(response.y))
            .with("label", OutputValue::Text(response.label)))
    }
}

/// The four snippets as the page shows them, what the page showed as the answer, and what the page
/// copied when its copy button was pressed with the Python tab selected.
struct Panel {
    curl: String,
    python: String,
    js: String,
    rust: String,
    copied: String,
    shown_label: String,
    js_answer: Value,
}

async fn submit_and_read(url: &str, key: Option<&str>) -> Panel {
    let browser = Browser::start(1000, 900).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    let label = serde_json::to_string(LABEL).unwrap();
    let key = serde_json::to_string(key.unwrap_or("")).unwrap();
    browser
        .js(&format!(
            "const set = (id, v) => {{ const n = document.getElementById(id); n.value = v; n.dispatchEvent(new Event('input')); }};
             set('in-x', '4'); set('in-label', {label}); if ({key}) set('api-key', {key});
             Object.defineProperty(navigator, 'clipboard', {{ value: {{ writeText: (t) => {{ window.copied = t; return Promise.resolve(); }} }} }});"
        ))
        .await;
    browser.click("#submit").await;
    browser.wait_for_text("#status", "Done in").await;
    let shown_label = browser.text("#out-label pre").await;
    browser.click("#api-panel summary").await;
    let curl = browser.wait_for_text("#curl", "curl -X POST").await;
    // The keyboard: focus the curl tab, ArrowRight selects Python (and shows only its panel).
    let tabs = browser
        .js("const t = document.getElementById('tab-curl'); t.focus();
             t.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowRight', bubbles: true }));
             return [...document.querySelectorAll('#api-tabs [role=tab]')].map((t) => [t.id, t.getAttribute('aria-selected'),
               getComputedStyle(document.getElementById(t.getAttribute('aria-controls'))).display === 'none', document.activeElement === t]);")
        .await;
    assert_eq!(
        tabs,
        json!([
            ["tab-curl", "false", true, false],
            ["tab-python", "true", false, true],
            ["tab-js", "false", true, false],
            ["tab-rust", "false", true, false]
        ])
    );
    browser.click("#copy-snippet").await;
    let read = |id: &str| format!("return document.getElementById('{id}').textContent;");
    let text = |v: Value| v.as_str().unwrap().to_owned();
    let python = text(browser.js(&read("snippet-python")).await);
    let js = text(browser.js(&read("snippet-js")).await);
    let rust = text(browser.js(&read("snippet-rust")).await);
    let copied = text(browser.js("return window.copied;").await);
    let docs = browser
        .js("return document.querySelector('#api-panel a[href=\"/docs/\"]') !== null;")
        .await;
    assert_eq!(docs, json!(true), "the panel links to /docs");
    // The JavaScript snippet, run in the page as written (the real key in place of the placeholder).
    let runnable = js.replace("<your key>", KEY).replace("console.log(", "return (");
    let js_answer = browser.js(&format!("return (async () => {{ {runnable} }})();")).await;
    browser.close().await;
    Panel {
        curl,
        python,
        js,
        rust,
        copied,
        shown_label,
        js_answer,
    }
}

/// The text between `start` and `end` in `s`.
fn between<'s>(s: &'s str, start: &str, end: &str) -> &'s str {
    let from = s.find(start).unwrap_or_else(|| panic!("no {start:?} in {s}")) + start.len();
    let len = s[from..].find(end).unwrap_or_else(|| panic!("no {end:?} in {s}"));
    &s[from..from + len]
}

fn assert_is_the_request(request: &Value, what: &str) {
    assert_eq!(
        (
            request["x"].as_f64(),
            request["label"].as_str(),
            request["loud"].as_bool()
        ),
        (Some(4.0), Some(LABEL), Some(true)),
        "{what}: {request}"
    );
}

/// Runs `script` with the `requests` virtualenv's python; its last printed line.
fn python(script: &str) -> Option<String> {
    let Some(venv) = std::env::var_os("EASYMLSERVE_TEST_VENV_OIP_CLIENTS") else {
        eprintln!("skipped the Python run: EASYMLSERVE_TEST_VENV_OIP_CLIENTS is not set; scripts/test creates it");
        return None;
    };
    let out = std::process::Command::new(std::path::Path::new(&venv).join("bin/python"))
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{script}\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(stdout.lines().last().unwrap().to_owned())
}

/// Builds the Rust snippet as a program (trybuild, with this crate's dependencies) and runs it against
/// the server: it passes only if the program exits 0, that is if `process_json` got an answer.
async fn compile_and_run_rust(snippet: &str) {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("api_snippet_rust.rs");
    std::fs::write(&path, snippet).unwrap();
    tokio::task::spawn_blocking(move || trybuild::TestCases::new().pass(&path))
        .await
        .unwrap();
}

async fn check_panel(url: &str, key: Option<&str>) {
    let panel = submit_and_read(url, key).await;
    let process = format!("{url}/process");
    // The answer as numbers compare (JSON `12` and `12.0` are one answer).
    let answer = |v: &Value| {
        (
            v["y"].as_f64(),
            v["label"].as_str().map(str::to_owned),
            v.as_object().map(|o| o.len()),
        )
    };
    let expected = (Some(12.0), Some(LABEL.to_uppercase()), Some(2));
    assert_eq!(panel.shown_label, LABEL.to_uppercase());

    // curl: the JSON inside single quotes, `'` written as `'\''`.
    let data = panel.curl.split_once("-d '").unwrap().1;
    let data = data.strip_suffix('\'').unwrap().replace("'\\''", "'");
    assert_is_the_request(&serde_json::from_str(&data).unwrap(), "curl");
    assert!(
        panel.curl.contains(&format!("curl -X POST '{process}'")),
        "{}",
        panel.curl
    );

    // Python: a dict literal; python itself reads it back, then the snippet runs for real.
    assert!(
        panel
            .python
            .contains(&format!("requests.post(\"{process}\", json=payload")),
        "{}",
        panel.python
    );
    let literal = between(&panel.python, "", "response = requests.post");
    if let Some(line) = python(&format!("{literal}\nimport json\nprint(json.dumps(payload))")) {
        assert_is_the_request(&serde_json::from_str(&line).unwrap(), "python payload");
        let run = format!(
            "{}\nimport json\nprint(json.dumps(response.json()))",
            panel.python.replace("<your key>", key.unwrap_or(""))
        );
        let got: Value = serde_json::from_str(&python(&run).unwrap()).unwrap();
        assert_eq!(answer(&got), expected, "{}", panel.python);
    }
    assert_eq!(panel.copied, panel.python, "the copy button copies the snippet shown");

    // JavaScript: JSON text as the argument of JSON.stringify; it ran in the page.
    let body = between(&panel.js, "body: JSON.stringify(", "),\n});");
    assert_is_the_request(&serde_json::from_str(body).unwrap(), "js");
    assert!(panel.js.contains(&format!("fetch(\"{process}\", {{")), "{}", panel.js);
    assert_eq!(answer(&panel.js_answer), expected, "{}", panel.js);

    // Rust: a raw string with more `#` than any `"#` run in the JSON (the label has one).
    let raw = between(&panel.rust, "serde_json::from_str(r##\"", "\"##)?;");
    assert_is_the_request(&serde_json::from_str(raw).unwrap(), "rust");
    assert!(
        panel.rust.contains(&format!("Client::new(\"{url}\")?")),
        "{}",
        panel.rust
    );
    assert!(
        panel.rust.contains("client.process_json(&request).await?"),
        "{}",
        panel.rust
    );

    if let Some(key) = key {
        compile_and_run_rust(&panel.rust.replace("<your key>", key)).await;
    }

    // The key: a placeholder in each snippet when the server needs one, absent otherwise; the real
    // key typed into the page never appears.
    for (name, snippet) in [
        ("curl", &panel.curl),
        ("python", &panel.python),
        ("js", &panel.js),
        ("rust", &panel.rust),
    ] {
        assert!(!snippet.contains(KEY), "{name} leaks the key: {snippet}");
        assert_eq!(snippet.contains("<your key>"), key.is_some(), "{name}: {snippet}");
    }
    if key.is_some() {
        assert!(panel.curl.contains("-H 'X-API-Key: <your key>'"), "{}", panel.curl);
        assert!(
            panel.python.contains(r#"headers={"X-API-Key": "<your key>"}"#),
            "{}",
            panel.python
        );
        assert!(panel.rust.contains(r#".api_key("<your key>")?"#), "{}", panel.rust);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_snippet_sends_the_request_the_page_sent() {
    let url = serve(Server::new(Triple).with_ui(TripleUi)).await;
    check_panel(&url, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_keys_on_the_snippets_carry_a_placeholder_key() {
    let config = ServerConfig {
        api_keys: ApiKeys::parse_list(KEY),
        ..ServerConfig::default()
    };
    let url = serve(Server::new(Triple).with_ui(TripleUi).config(config)).await;
    check_panel(&url, Some(KEY)).await;
}
