//! Echo's GUI, generated from its types (echo has no UI code), in headless Chromium: the text box and
//! the slider with the bounds, step and default of `#[schemars(range(min = 1, max = 10))]` and
//! `#[serde(default = "one")]`, labels and help from the doc comments, and the echoed text as a text
//! output after a submit.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use easymlserve::prelude::*;
use easymlserve_testkit::{Browser, serve};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_gui_has_every_field_with_its_bounds_and_default() {
    let url = serve(Server::new(echo::Echo).with_generated_ui()).await;
    let browser = Browser::start(1280, 1000).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    assert_eq!(browser.text("#title").await, "Echo");
    let attr = |id: &str, name: &str| format!("return document.getElementById('{id}').{name}");
    assert_eq!(browser.js(&attr("in-text", "type")).await, "text");
    assert_eq!(
        browser.text("#field-text label").await,
        "Text *",
        "required: marked with a star"
    );
    assert_eq!(browser.text("#field-text .help").await, "The text to repeat.");
    assert_eq!(browser.js(&attr("in-repeat", "type")).await, "range");
    assert_eq!(browser.js(&attr("in-repeat", "min")).await, "1");
    assert_eq!(browser.js(&attr("in-repeat", "max")).await, "10");
    assert_eq!(browser.js(&attr("in-repeat", "step")).await, "1");
    assert_eq!(
        browser.js(&attr("in-repeat", "value")).await,
        "1",
        "the default of `repeat`"
    );
    assert_eq!(
        browser.text("#field-repeat .help").await,
        "How many times to repeat it, 1 to 10."
    );

    browser
        .js("const t = document.getElementById('in-text'); t.value = 'ab'; t.dispatchEvent(new Event('input'));")
        .await;
    browser.click("#submit").await;
    browser.wait_for_text("#status", "Done in").await;
    assert!(browser.text("#out-text").await.contains("ab"), "one repeat by default");
    browser
        .js("const r = document.getElementById('in-repeat'); r.value = '4'; r.dispatchEvent(new Event('input'));")
        .await;
    browser.click("#submit").await;
    browser.wait_for_text("#out-text", "abababab").await;
    browser.close().await;
}

/// Echo's two examples come from the `example` attributes of its request type: both are listed under
/// the form, and with `--cache-examples` a click fills the text and the slider and shows the echo at
/// once, with no submit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_texts_to_click_and_a_cached_click_shows_the_echo() {
    let config = ServerConfig {
        cache_examples: true,
        ..Default::default()
    };
    let url = serve(Server::new(echo::Echo).config(config).with_generated_ui()).await;
    let browser = Browser::start(1280, 1000).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    assert_eq!(browser.count("#examples .example").await, 2);
    let list = browser.text("#examples").await;
    assert!(list.contains("hello") && list.contains("Karlsruhe!"), "{list:?}");

    browser.click("#example-1").await;
    browser.wait_for_text("#status", "computed at start").await;
    assert_eq!(
        browser.js("return document.getElementById('in-text').value").await,
        "Karlsruhe! "
    );
    assert_eq!(
        browser.js("return document.getElementById('in-repeat').value").await,
        "2"
    );
    assert!(browser.text("#out-text").await.contains("Karlsruhe! Karlsruhe!"));
    browser.close().await;
}
