//! The desktop GUI driven headless with egui_kittest against real servers on 127.0.0.1: every component
//! of the UI gallery set through its widget, file previews and their errors, a service that is down,
//! Cancel, a job's progress bar and Cancel with a server's state in process, a form generated from a
//! service's spec, and every example's UI.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use easymlserve_core::{Context, JobCaller, JobEventKind, Service, ServiceError};
use easymlserve_desktop::{DesktopApp, DesktopUi};
use easymlserve_server::{AppState, Server, ServerConfig, TypedBackend};
use easymlserve_ui::{OutputValue, SchemaUi, Ui};
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};

/// Serves `service` on 127.0.0.1:0; returns the URL and the runtime to keep alive.
fn serve<S: Service>(service: S) -> (String, tokio::runtime::Runtime) {
    easymlserve_testkit::serve_blocking(Server::new(service))
}

/// Echo's GUI: generated from its schemas (echo has no UI code).
fn echo_ui() -> SchemaUi {
    SchemaUi::for_service(&echo::Echo).unwrap()
}

fn window(ui: impl Ui, url: &str) -> Harness<'static, DesktopApp> {
    let app = DesktopApp::new(Arc::new(ui), url, None);
    Harness::builder()
        .with_size(egui::vec2(1200.0, 1600.0))
        .build_ui_state(|ui, app: &mut DesktopApp| app.ui(ui), app)
}

/// Steps the window until the request is answered (the window keeps drawing meanwhile).
fn wait_for_answer(harness: &mut Harness<'_, DesktopApp>) {
    let started = Instant::now();
    harness.step();
    while harness.state().is_busy() {
        assert!(started.elapsed() < Duration::from_secs(30), "no answer within 30 s");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.run_steps(3);
}

fn replace_text(harness: &Harness<'_, DesktopApp>, label: &str, text: &str) {
    let node = harness.get_by_label(label);
    node.focus();
    node.set_text_value_accesskit(text);
}

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/ui-gallery/samples")
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("easymlserve-desktop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn load(harness: &mut Harness<'_, DesktopApp>, label: &str, path: &std::path::Path) {
    replace_text(harness, &format!("Path of {label}"), path.to_str().unwrap());
    harness.run_steps(2);
    harness.get_by_label(&format!("Load file for {label}")).click();
    harness.run_steps(3);
}

#[test]
fn every_component_round_trips_through_the_window() {
    let (url, _server) = serve(ui_gallery::Gallery);
    let mut harness = window(ui_gallery::GalleryUi, &url);
    replace_text(&harness, "Title *", "Desktop test");
    replace_text(&harness, "Notes", "two words");
    replace_text(&harness, "Count *", "8");
    harness
        .get_all_by_label("Ratio *")
        .next()
        .unwrap()
        .set_value_accesskit(0.5);
    harness.run_steps(2);
    harness.get_by_label("Colour *").click();
    harness.run_steps(2);
    harness.get_by_label("blue").click();
    harness.get_by_label("basil").click();
    harness.get_by_label("Shout the summary").click();
    harness.run_steps(2);
    let note = temp_file("note.txt", b"twelve bytes");
    let png = temp_file("dots.png", &{
        let img = image::GrayImage::from_fn(8, 6, |x, _| image::Luma([x as u8 * 30]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        out.into_inner()
    });
    load(&mut harness, "Any file", &note);
    load(&mut harness, "Image", &png);
    load(&mut harness, "CSV table", &samples().join("plate.csv"));
    load(&mut harness, "Time series", &samples().join("weather.csv"));
    harness.get_by_label("8 x 6 px, 8-bit grey");
    harness.get_by_label("3 rows in the file");
    harness.get_by_label("8 rows in the file");

    harness.get_by_label("Submit").click();
    wait_for_answer(&mut harness);
    let app = harness.state();
    assert_eq!(app.banner(), None);
    assert!(app.status().starts_with("Done in"), "{}", app.status());
    let summary = "DESKTOP TEST — 8 × 0.50, BLUE WITH CHEESE AND BASIL; FILE NOTE.TXT (12 BYTES)";
    assert_eq!(
        app.outputs().get("summary"),
        Some(&OutputValue::Text(summary.to_owned()))
    );
    harness.get_by_label(summary);
    harness.get_by_label("4.00 points");
    let Some(OutputValue::Plot(plot)) = harness.state().outputs().get("plot") else {
        panic!("no plot")
    };
    assert_eq!(plot.series.len(), 2, "one line per uploaded column");
    let Some(OutputValue::Image(image)) = harness.state().outputs().get("image") else {
        panic!("no image")
    };
    assert!(image.overlay_png.is_some());
    assert_eq!((image.width, image.height), (8, 6));
    assert_eq!(
        harness.get_all_by_label("A2").count(),
        2,
        "in the CSV preview and in the result table"
    );
    harness.get_by_label("Save report.csv…");
    harness.get_by_label("Overlay");
}

#[test]
fn bad_files_are_reported_next_to_their_field() {
    let (url, _server) = serve(ui_gallery::Gallery);
    let mut harness = window(ui_gallery::GalleryUi, &url);
    load(
        &mut harness,
        "CSV table",
        &temp_file("broken.csv", b"a,b\n1,2\n3,4,5\n"),
    );
    assert_eq!(
        harness.state().field_error("table"),
        Some("line 3: expected 2 fields like the header, found 3")
    );
    harness.get_by_label("line 3: expected 2 fields like the header, found 3");
    load(&mut harness, "Time series", &samples().join("unsorted.csv"));
    assert!(harness.state().field_error("series").unwrap().contains("time order"));
    load(&mut harness, "Image", std::path::Path::new("/no/such/file.png"));
    assert!(
        harness
            .state()
            .field_error("image")
            .unwrap()
            .starts_with("cannot read `/no/such/file.png`")
    );
}

#[test]
fn a_service_that_is_down_is_reported_in_plain_words() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let mut harness = window(echo_ui(), &url);
    replace_text(&harness, "Text *", "anyone there?");
    harness.get_by_label("Submit").click();
    wait_for_answer(&mut harness);
    let banner = harness.state().banner().unwrap().to_owned();
    assert!(banner.contains("cannot be reached; is it running?"), "{banner}");
    harness.get_by_label(&banner);
    assert!(harness.state().status().starts_with("Failed after"));
}

/// A model that takes its time.
struct Slow;

impl Service for Slow {
    type Request = echo::EchoRequest;
    type Response = echo::EchoResponse;
    fn process(&self, r: echo::EchoRequest) -> Result<echo::EchoResponse, easymlserve_core::ServiceError> {
        std::thread::sleep(Duration::from_secs(3));
        Ok(echo::EchoResponse { text: r.text })
    }
}

#[test]
fn the_window_stays_responsive_and_can_cancel() {
    let (url, _server) = serve(Slow);
    let mut harness = window(echo_ui(), &url);
    replace_text(&harness, "Text *", "slow");
    harness.get_by_label("Submit").click();
    harness.run_steps(2);
    assert!(harness.state().is_busy());
    std::thread::sleep(Duration::from_millis(250));
    harness.step();
    assert!(
        harness.state().status().starts_with("Running… 0."),
        "elapsed time shown: {}",
        harness.state().status()
    );
    harness.get_by_label("Cancel").click();
    wait_for_answer(&mut harness);
    assert!(harness.state().status().starts_with("Cancelled after"));
    assert!(harness.state().outputs().get("text").is_none());
}

/// A model of 40 steps of 100 ms that reports its progress after each and stops when canceled.
struct Steps;

impl Service for Steps {
    type Request = echo::EchoRequest;
    type Response = echo::EchoResponse;
    fn process(&self, r: echo::EchoRequest) -> Result<echo::EchoResponse, ServiceError> {
        self.process_with(r, &Context::detached())
    }
    fn process_with(&self, r: echo::EchoRequest, ctx: &Context) -> Result<echo::EchoResponse, ServiceError> {
        for step in 1..=40 {
            ctx.check_cancelled()?;
            std::thread::sleep(Duration::from_millis(100));
            ctx.progress(f64::from(step) / 40.0, format!("step {step} of 40"));
        }
        Ok(echo::EchoResponse { text: r.text })
    }
}

/// Steps the window until `probe` finds something in the app.
fn step_until<T>(harness: &mut Harness<'_, DesktopApp>, probe: impl Fn(&DesktopApp) -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        harness.step();
        if let Some(found) = probe(harness.state()) {
            return found;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "not within 30 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The progress bar's value (0 to 100) and label, as assistive technology reads them.
fn bar(harness: &Harness<'_, DesktopApp>) -> (f64, String) {
    let node = harness.get_by_role(Role::ProgressIndicator);
    let node = node.accesskit_node();
    (node.numeric_value().unwrap(), node.label().unwrap_or_default())
}

#[test]
fn a_job_shows_its_progress_and_cancel_cancels_it() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let state = runtime.block_on(async {
        let config = ServerConfig {
            workers: 1,
            ..ServerConfig::default()
        };
        let state = AppState::new(Box::new(TypedBackend::new(Steps)), &config, None);
        state.load().await.unwrap();
        state
    });
    let app = DesktopApp::with_caller(Arc::new(echo_ui()), Arc::new(state.clone()));
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1200.0, 900.0))
        .build_ui_state(|ui, app: &mut DesktopApp| app.ui(ui), app);
    replace_text(&harness, "Text *", "slow");
    harness.get_by_label("Submit").click();
    let first = step_until(&mut harness, |app| app.job()?.fraction);
    let (shown, label) = bar(&harness);
    assert_eq!(label, "Progress", "the bar has a label");
    assert!(shown >= (first * 100.0).floor(), "the bar shows the fraction: {shown}");
    let message = harness.state().job().unwrap().message;
    assert!(message.starts_with("step ") && message.ends_with(" of 40"), "{message}");
    harness.get_by_label_contains(" of 40");
    std::thread::sleep(Duration::from_millis(500));
    harness.run_steps(2);
    let job = harness.state().job().unwrap();
    let second = job.fraction.unwrap();
    assert!(second > first, "the fraction rises: {first} then {second}");
    assert!(bar(&harness).0 > shown, "and so does the bar");
    assert!(job.eta_s().is_some(), "an ETA");
    harness.get_by_label_contains("Elapsed ");
    harness.get_by_label_contains(" left");

    let id = job.id.unwrap();
    harness.get_by_label("Cancel").click();
    harness.run_steps(2);
    assert!(harness.state().job().is_none_or(|job| job.canceling));
    wait_for_answer(&mut harness);
    let app = harness.state();
    assert!(app.status().starts_with("Cancelled after"), "{}", app.status());
    assert_eq!(app.banner(), None, "a cancel is no error");
    assert!(app.outputs().get("text").is_none());
    let events = runtime.block_on(JobCaller::events_after(&state, &id, 0)).unwrap();
    let Some(JobEventKind::Error(failure)) = events.last().map(|e| &e.kind) else {
        panic!("the job did not fail: {events:?}")
    };
    assert_eq!(failure.body.error_type, "canceled");
}

#[test]
fn a_form_is_generated_from_a_services_spec() {
    let (url, _server) = serve(echo::Echo);
    let app = DesktopUi::generated().service_url(url).into_app().unwrap();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1200.0, 900.0))
        .build_ui_state(|ui, app: &mut DesktopApp| app.ui(ui), app);
    replace_text(&harness, "Text *", "ab");
    harness
        .get_all_by_label("Repeat")
        .next()
        .unwrap()
        .set_value_accesskit(3.0);
    harness.run_steps(2);
    harness.get_by_label("Submit").click();
    wait_for_answer(&mut harness);
    let Some(OutputValue::Text(text)) = harness.state().outputs().get("text") else {
        panic!("no text output")
    };
    assert_eq!(text, "ababab");
}

/// Every example's UI: draw it, submit it as a user would with its defaults (and a sample file where a
/// file is required), and check each declared output got a value.
#[test]
fn every_example_ui_runs_in_the_window() {
    let (echo_url, _echo) = serve(echo::Echo);
    let mut harness = window(echo_ui(), &echo_url);
    replace_text(&harness, "Text *", "hi");
    submit_and_check_outputs(&mut harness, echo_ui().outputs().len());

    let (gallery_url, _gallery) = serve(ui_gallery::Gallery);
    let mut harness = window(ui_gallery::GalleryUi, &gallery_url);
    submit_and_check_outputs(&mut harness, ui_gallery::GalleryUi.outputs().len());

    let models = std::env::temp_dir().join(format!("desktop-forecasting-{}", std::process::id()));
    load_forecasting::train::small_models(&models).unwrap();
    let (forecast_url, _forecast) = serve(load_forecasting::service::LoadForecaster::new(models));
    let mut harness = window(load_forecasting::ui::forecast_ui(), &forecast_url);
    let month = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/load-forecasting/samples/2019-01.csv");
    let csv_label = load_forecasting::ui::forecast_ui()
        .inputs()
        .iter()
        .find(|i| i.name == "csv")
        .unwrap()
        .label
        .clone();
    load(&mut harness, &csv_label, &month);
    submit_and_check_outputs(&mut harness, load_forecasting::ui::forecast_ui().outputs().len());
}

fn submit_and_check_outputs(harness: &mut Harness<'_, DesktopApp>, declared: usize) {
    harness.get_by_label("Submit").click();
    wait_for_answer(harness);
    assert_eq!(harness.state().banner(), None);
    assert_eq!(harness.state().outputs().0.len(), declared, "every output got a value");
}
