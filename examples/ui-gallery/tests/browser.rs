//! End-to-end tests of the web GUI in headless Chromium: every input and output component of the UI
//! gallery, file previews and their errors, plot interaction, narrow screens, accessibility basics, API
//! keys, a generated GUI, and a service that is down.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::PathBuf;
use std::time::Duration;

use easymlserve::prelude::*;
use easymlserve::{ApiKeys, WebUi};
use easymlserve_testkit::{Browser, serve};
use fantoccini::Locator;
use fantoccini::actions::{InputSource, MouseActions, PointerAction};

fn gallery() -> Server<ui_gallery::Gallery> {
    Server::new(ui_gallery::Gallery).with_ui(ui_gallery::GalleryUi)
}

/// Test files in a fresh folder: a PNG, a text file, and the shipped sample CSVs.
struct Fixtures {
    dir: PathBuf,
}

impl Fixtures {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ui-gallery-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let image = image::GrayImage::from_fn(40, 30, |x, y| {
            image::Luma([if (x / 10 + y / 10) % 2 == 0 { 200 } else { 30 }])
        });
        image.save(dir.join("cells.png")).unwrap();
        std::fs::write(dir.join("note.txt"), "hello from a file\n").unwrap();
        let samples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples");
        for name in ["weather.csv", "plate.csv", "unsorted.csv"] {
            std::fs::copy(samples.join(name), dir.join(name)).unwrap();
        }
        std::fs::write(dir.join("broken.csv"), "a,b\n1,2\n3,4,5\n").unwrap();
        Self { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Fixtures {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn set_value(browser: &Browser, css: &str, value: &str) {
    let element = browser.client.find(Locator::Css(css)).await.unwrap();
    element.clear().await.unwrap();
    element.send_keys(value).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_component_round_trips_through_the_page() {
    let url = serve(gallery()).await;
    let files = Fixtures::new("all");
    let browser = Browser::start(1280, 1400).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    assert_eq!(browser.text("#title").await, "UI gallery");

    set_value(&browser, "#in-title", "Browser test").await;
    set_value(&browser, "#in-notes", "three little words").await;
    set_value(&browser, "#in-count", "7").await;
    browser
        .js("const r = document.getElementById('in-ratio'); r.value = '0.25'; r.dispatchEvent(new Event('input'));")
        .await;
    assert_eq!(browser.text("#field-ratio output").await, "0.25");
    browser
        .client
        .find(Locator::Css("#in-colour option[value=blue]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.click("#in-toppings-1").await; // olives; cheese is the default
    browser.click("#in-shout").await;
    browser.upload("file", &files.path("note.txt")).await;
    browser.upload("image", &files.path("cells.png")).await;
    browser.upload("table", &files.path("plate.csv")).await;
    browser.upload("series", &files.path("weather.csv")).await;
    browser.wait_for("#field-image .preview img").await;
    assert!(
        browser
            .wait_for_text("#field-image .preview", "40 x 30 px, 8-bit grey")
            .await
            .contains("grey")
    );
    browser
        .wait_for_text("#field-table .preview", "3 rows in the file")
        .await;
    browser
        .wait_for_text("#field-series .preview", "8 rows in the file")
        .await;
    assert!(
        browser.count("#field-series .preview svg path").await >= 2,
        "the time series preview has no lines"
    );

    browser.click("#submit").await;
    browser.wait_for_text("#status", "Done in").await;
    assert_eq!(
        browser.text("#out-summary pre").await,
        "BROWSER TEST — 7 × 0.25, BLUE WITH CHEESE AND OLIVES; FILE NOTE.TXT (18 BYTES)"
    );
    assert_eq!(browser.text("#out-score .number-value").await, "1.75 points");
    assert_eq!(
        browser.count("#out-plot svg path").await,
        2,
        "one line per uploaded column"
    );
    assert_eq!(browser.count("#out-image img.overlay").await, 1);
    assert_eq!(browser.count("#out-table tbody tr").await, 3);
    assert!(browser.text("#out-table tbody").await.contains("A2"));
    let json = browser.text("#out-json pre").await;
    assert!(json.contains("\"note_words\": 3"), "{json}");
    assert!(json.contains("\"table_rows\": 3"), "{json}");
    assert_eq!(browser.text("#out-report a.file-download").await, "Download report.csv");
    browser.click("#api-panel summary").await;
    let curl = browser.wait_for_text("#curl", "curl -X POST").await;
    assert!(curl.starts_with(&format!("curl -X POST '{url}/process'")), "{curl}");
    browser.client.set_window_size(1280, 2300).await.unwrap();
    browser.js("window.scrollTo(0, 0)").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shot = browser.client.screenshot().await.unwrap();
    assert_eq!(&shot[..4], b"\x89PNG");
    if std::env::var_os("EASYMLSERVE_SCREENSHOTS").is_some() {
        let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/ui-gallery.png");
        std::fs::write(out, shot).unwrap();
    }
    // The README's pictures of this page in both themes (written with EASYMLSERVE_SCREENSHOTS set).
    browser.screenshots_light_and_dark("gallery", 1280).await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_are_reported_next_to_their_field() {
    let url = serve(gallery()).await;
    let files = Fixtures::new("bad");
    let browser = Browser::start(1280, 1000).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    browser.upload("table", &files.path("broken.csv")).await;
    let error = browser.wait_for_text("#err-table", "line 3").await;
    assert!(error.contains("expected 2 fields like the header, found 3"), "{error}");
    browser.upload("series", &files.path("unsorted.csv")).await;
    let error = browser.wait_for_text("#err-series", "line 4").await;
    assert!(error.contains("time order"), "{error}");
    browser.upload("image", &files.path("note.txt")).await;
    browser.wait_for_text("#err-image", "not a PNG, JPEG or TIFF").await;
    // Submitting anyway: the server refuses with the same message, shown at the same field.
    browser
        .js("document.querySelectorAll('.error').forEach(e => e.textContent = '');")
        .await;
    browser.click("#submit").await;
    browser.wait_for_text("#status", "Failed after").await;
    assert!(!browser.text("#err-table").await.is_empty() || !browser.text("#err-image").await.is_empty());
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plots_show_values_on_hover_and_zoom_on_drag() {
    let url = serve(gallery()).await;
    let browser = Browser::start(1280, 1200).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    browser.click("#submit").await;
    browser.wait_for_text("#status", "Done in").await;
    let hit = browser.wait_for("#out-plot svg rect[cursor=crosshair]").await;
    let hover = MouseActions::new("mouse".to_owned()).then(PointerAction::MoveToElement {
        element: hit.clone(),
        duration: None,
        x: 0.0,
        y: 0.0,
    });
    browser.client.perform_actions(hover).await.unwrap();
    let tip = browser.wait_for_text("#out-plot .tooltip", "wave").await;
    assert!(
        tip.contains("x = 3"),
        "the tooltip shows the x value under the pointer: {tip}"
    );
    let drag = MouseActions::new("mouse".to_owned())
        .then(PointerAction::MoveToElement {
            element: hit,
            duration: None,
            x: -150.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: fantoccini::actions::MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::MoveBy {
            duration: Some(Duration::from_millis(100)),
            x: 120.0,
            y: 0.0,
        })
        .then(PointerAction::Up {
            button: fantoccini::actions::MOUSE_BUTTON_LEFT,
        });
    browser.client.perform_actions(drag).await.unwrap();
    let view = || browser.js("return document.querySelector('#out-plot .plot').dataset.view");
    let zoomed = view().await;
    browser.click("#out-plot .row button:nth-child(3)").await; // Reset zoom
    assert_eq!(view().await, "0.00000,6.00000", "reset shows the whole x range");
    let zoomed: Vec<f64> = zoomed
        .as_str()
        .unwrap()
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(
        zoomed[0] > 0.0 && zoomed[1] < 6.0 && zoomed[0] < zoomed[1],
        "dragging zoomed into a part: {zoomed:?}"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_at_phone_width_and_is_labelled_for_screen_readers() {
    let url = serve(gallery()).await;
    let browser = Browser::start(360, 800).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    browser.click("#submit").await;
    browser.wait_for_text("#status", "Done in").await;
    let overflow = browser
        .js("return document.documentElement.scrollWidth - window.innerWidth")
        .await;
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "the page scrolls sideways at 360 px by {overflow} px"
    );
    let unlabelled = browser
        .js(
            "return [...document.querySelectorAll('#inputs input:not([type=file]), #inputs select, #inputs textarea')]
               .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).map(e => e.id)",
        )
        .await;
    assert_eq!(unlabelled, serde_json::json!([]), "inputs without a label");
    let drops = browser.js("return [...document.querySelectorAll('.drop')].every(d => d.tabIndex === 0 && d.getAttribute('aria-label'))").await;
    assert_eq!(
        drops,
        serde_json::json!(true),
        "file drop zones are keyboard reachable and labelled"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_is_down_is_reported_in_plain_words() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("http://{}", dead.local_addr().unwrap());
    drop(dead);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let gui = WebUi::new(ui_gallery::GalleryUi).service_url(dead_url);
    tokio::spawn(gui.serve_with_shutdown(listener, std::future::pending()));
    let browser = Browser::start(1280, 1000).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    browser.click("#submit").await;
    let banner = browser.wait_for_text("#banner", "cannot be reached").await;
    assert!(banner.contains("is it running?"), "{banner}");
    assert!(browser.text("#status").await.starts_with("Failed after"));
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_asks_for_the_api_key_and_sends_it() {
    let mut server = gallery();
    server.config_mut().api_keys = ApiKeys::parse_list("gui-key-42");
    let url = serve(server).await;
    let browser = Browser::start(1280, 1000).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    browser.click("#submit").await;
    browser.wait_for_text("#banner", "API key").await;
    set_value(&browser, "#api-key", "gui-key-42").await;
    browser.click("#submit").await;
    browser.wait_for_text("#status", "Done in").await;
    let location = browser.js("return window.location.href").await;
    assert!(
        !location.as_str().unwrap().contains("gui-key-42"),
        "the key ended up in the URL"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_without_a_ui_gets_a_generated_form() {
    let url = serve(Server::new(echo::Echo).with_generated_ui()).await;
    let browser = Browser::start(1280, 1000).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    assert_eq!(
        browser.js("return document.getElementById('in-repeat').type").await,
        "range"
    );
    assert_eq!(
        browser.js("return document.getElementById('in-repeat').max").await,
        "10"
    );
    set_value(&browser, "#in-text", "ab").await;
    browser
        .js("const r = document.getElementById('in-repeat'); r.value = '3'; r.dispatchEvent(new Event('input'));")
        .await;
    browser.click("#submit").await;
    browser.wait_for_text("#status", "Done in").await;
    assert_eq!(browser.text("#out-text").await, "Text\nThe text, repeated.\nababab");
    browser.close().await;
}
