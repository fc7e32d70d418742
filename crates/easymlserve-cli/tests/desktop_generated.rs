//! The desktop window generated for what `easymlserve serve` serves with no code (issue 17 item 1): a
//! Python service (tests/desktop_form.py, beside this file) and an ONNX model, each served by the real
//! binary and opened over REST by `DesktopUi::generated()` in egui_kittest. The Python form has its
//! slider with the schema's bounds and default, the enum's drop-down, the bool's checkbox and the
//! described text box, and a submit shows the service's answer; the ONNX model's tensor form has its
//! image input, and a submit of a digit shows the classes table. A window given a `Ui` with no title
//! shows the service's name and description instead (issue 17 item 2).
//!
//! The Python test runs the interpreter of `EASYMLSERVE_TEST_VENV_SDK_PYDANTIC2` (scripts/test sets it);
//! without it the test says it is skipped (under nextest's `ci` profile it fails instead).

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use easymlserve::ui::OutputValue;
use easymlserve_desktop::{DesktopApp, DesktopUi};
use egui::accesskit::{Role, Toggled};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

const BIN: &str = env!("CARGO_BIN_EXE_easymlserve");

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// The binary serving on a free port; killed when the test ends, passed or failed.
struct Serving {
    child: Child,
    url: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(output: impl Read + Send + 'static, log: &Arc<Mutex<Vec<String>>>) {
    let log = Arc::clone(log);
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines().map_while(Result::ok) {
            log.lock().unwrap().push(line);
        }
    });
}

impl Serving {
    fn start(args: &[&std::ffi::OsStr]) -> Self {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(args)
            .args(["--port", "0"])
            .env("NO_COLOR", "1")
            .env("EASYMLSERVE_LOG", "info")
            .env_remove("EASYMLSERVE_API_KEYS")
            .env_remove("EASYMLSERVE_PORT")
            .env_remove("EASYMLSERVE_WORKERS")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        collect(child.stdout.take().unwrap(), &log);
        collect(child.stderr.take().unwrap(), &log);
        let mut serving = Self {
            child,
            url: String::new(),
            log,
        };
        let started = Instant::now();
        serving.url = loop {
            let found = serving.log.lock().unwrap().iter().find_map(|line| {
                let at = line.find("listening on http://")? + "listening on ".len();
                Some(line[at..].split_whitespace().next()?.to_owned())
            });
            if let Some(url) = found {
                break url;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30) && serving.child.try_wait().unwrap().is_none(),
                "the server did not start: {:?}",
                serving.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        let addr = serving.url.trim_start_matches("http://").to_owned();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        while runtime.block_on(easymlserve_testkit::http_status(&addr, "/health/ready")) != Some(200) {
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "not ready: {:?}",
                serving.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        serving
    }
}

fn generated_window(url: &str) -> Harness<'static, DesktopApp> {
    let app = DesktopUi::generated().service_url(url).into_app().unwrap();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1200.0, 1200.0))
        .build_ui_state(|ui, app: &mut DesktopApp| app.ui(ui), app);
    harness.run_steps(2);
    harness
}

fn wait_for_answer(harness: &mut Harness<'_, DesktopApp>) {
    let started = Instant::now();
    harness.step();
    while harness.state().is_busy() {
        assert!(started.elapsed() < Duration::from_secs(60), "no answer within 60 s");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(3);
}

#[test]
fn a_python_services_window_is_generated_from_its_schema() {
    let Some(python) = easymlserve_testkit::venv_python("SDK_PYDANTIC2") else {
        return;
    };
    let service = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/desktop_form.py");
    let server = Serving::start(&[
        "--python".as_ref(),
        service.as_os_str(),
        "--python-bin".as_ref(),
        python.as_os_str(),
        "--workers".as_ref(),
        "1".as_ref(),
    ]);
    let mut harness = generated_window(&server.url);

    // The bounded int: a slider from 1 to 9 at its default 3, its description shown.
    let times = harness.get_by_role(Role::Slider);
    let node = times.accesskit_node();
    assert_eq!(
        (node.min_numeric_value(), node.max_numeric_value(), node.numeric_value()),
        (Some(1.0), Some(9.0), Some(3.0)),
        "bounds 1-9 and default 3"
    );
    harness.get_by_label("How often to repeat them.");
    // The described required field: its text box, starred, and its description.
    harness.get_by_label("Text *");
    harness.get_by_label("The words to dress up.");
    // The enum: a drop-down showing its default, its choices listed when opened.
    let case = harness.get_by_role(Role::ComboBox);
    let node = case.accesskit_node();
    assert_eq!(
        (node.label().as_deref(), node.value().as_deref()),
        (Some("Case"), Some("lower")),
        "the enum's default shown"
    );
    harness.get_by_label("The letter case.");
    // The bool: an unticked checkbox labelled with the field.
    assert_eq!(
        harness.get_by_label("Exclaim").accesskit_node().toggled(),
        Some(Toggled::False),
        "unticked by default"
    );

    let text = harness.get_by_label("Text *");
    text.focus();
    text.set_text_value_accesskit("ab");
    harness.run_steps(2);
    harness.get_by_role(Role::ComboBox).click();
    harness.run_steps(2);
    harness.get_by_label("title");
    harness.get_by_label("upper").click();
    harness.get_by_label("Exclaim").click();
    harness.run_steps(2);
    harness.get_by_label("Submit").click();
    wait_for_answer(&mut harness);
    assert_eq!(harness.state().banner(), None, "{:?}", server.log.lock().unwrap());
    assert_eq!(
        harness.state().outputs().get("text"),
        Some(&OutputValue::Text("AB AB AB!".to_owned())),
        "three repeats by default, the case and the mark picked in the window"
    );
    // The answer is drawn, under the output's label.
    harness.get_by_label("AB AB AB!");
}

#[test]
fn an_onnx_models_tensor_form_is_generated_and_classifies_a_digit() {
    let model = repo("examples/onnx/models/digits_cnn.onnx");
    let server = Serving::start(&[model.as_os_str(), "--model-name".as_ref(), "digits".as_ref()]);
    let mut harness = generated_window(&server.url);

    // The tensor form: the image input (with the shape it is resized to) and the classes output.
    harness.get_by_label("Image (image) *");
    harness.get_by_label("A PNG, JPEG or TIFF image, converted to grey, resized to 8 x 8.");
    harness.get_by_label("Top classes (probabilities)");

    let digit = repo("examples/onnx/examples/digit-3-705.png");
    let path = harness.get_by_label("Path of Image (image)");
    path.focus();
    path.set_text_value_accesskit(digit.to_str().unwrap());
    harness.run_steps(2);
    harness.get_by_label("Load file for Image (image)").click();
    harness.run_steps(3);
    harness.get_by_label("Submit").click();
    wait_for_answer(&mut harness);
    assert_eq!(harness.state().banner(), None, "{:?}", server.log.lock().unwrap());
    let Some(OutputValue::Label(ranked)) = harness.state().outputs().get("probabilities") else {
        panic!("no classes: {:?}", harness.state().outputs())
    };
    assert_eq!(ranked.classes[0].label, "3", "the digit is a 3: {:?}", ranked.classes);
    assert_eq!(ranked.classes.len(), 5, "the five most likely classes");
    let top = ranked.classes[0].percent();
    harness.get_by_label(&top);
}

#[test]
fn a_given_ui_without_a_title_shows_the_services_name_and_description() {
    let model = repo("examples/onnx/models/digits_cnn.onnx");
    let server = Serving::start(&[model.as_os_str()]);
    let untitled = easymlserve::ui::SchemaUi::from_schema("", "", &serde_json::json!({"type": "object"}));
    let app = DesktopUi::new(untitled).service_url(&server.url).into_app().unwrap();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1200.0, 800.0))
        .build_ui_state(|ui, app: &mut DesktopApp| app.ui(ui), app);
    harness.run_steps(2);
    harness.get_by_label("digits_cnn");
    harness.get_by_label_contains("Handwritten digit (0-9) classifier");
}
