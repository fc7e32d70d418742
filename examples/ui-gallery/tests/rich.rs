//! The rich outputs of the web GUI in headless Chromium (issue 18): the Label's bars are as wide as
//! their confidences and say their percentages, the Gallery opens a picture in a dialog that Escape
//! and Close close, the AnnotatedImage puts its boxes where the pixels are in the palette's colours
//! with a legend, and Markdown typed by a visitor cannot run a script, load an image or follow a
//! `javascript:` link.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use easymlserve::prelude::*;
use easymlserve_testkit::{Browser, serve};
use fantoccini::Locator;

fn gallery() -> Server<ui_gallery::Gallery> {
    Server::new(ui_gallery::Gallery).with_ui(ui_gallery::GalleryUi)
}

async fn submit(browser: &Browser) {
    browser.click("#submit").await;
    browser.wait_for_text("#status", "Done in").await;
}

/// WebDriver's code for the Escape key.
const ESCAPE: &str = "\u{E00C}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_galleries_and_annotated_images_are_drawn_and_the_gallery_enlarges() {
    let url = serve(gallery()).await;
    let browser = Browser::start(1280, 1400).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    // Green (the default) at ratio 0.25: 0.5 + 0.4 x 0.25 = 0.6; red and blue share 0.4 as 2 : 1.
    browser
        .js("const r = document.getElementById('in-ratio'); r.value = '0.25'; r.dispatchEvent(new Event('input'));")
        .await;
    submit(&browser).await;

    let rows = browser
        .js(
            "return [...document.querySelectorAll('#out-guess .label-row')].map(r => {
               const track = r.querySelector('.label-track'), bar = r.querySelector('.label-bar');
               return [r.querySelector('.label-name').textContent, r.querySelector('.label-percent').textContent,
                       bar.getBoundingClientRect().width / track.clientWidth, track.getAttribute('aria-valuetext')];
             })",
        )
        .await;
    let rows = rows.as_array().unwrap();
    let expected = [
        ("green", "60.0%", 0.6),
        ("red", "26.7%", 0.8 / 3.0),
        ("blue", "13.3%", 0.4 / 3.0),
    ];
    assert_eq!(rows.len(), expected.len(), "top_k 3 of 3 classes: {rows:?}");
    for (row, (name, percent, share)) in rows.iter().zip(expected) {
        assert_eq!(row[0], name, "{rows:?}");
        assert_eq!(row[1], percent, "the percentage is written out: {rows:?}");
        assert_eq!(row[3], percent, "and told to screen readers: {rows:?}");
        let width = row[2].as_f64().unwrap();
        assert!(
            (width - share).abs() < 0.01,
            "{name}: bar {width:.3} of the track, confidence {share:.3}"
        );
    }

    // Gallery: three thumbnails with captions; a click opens the picture, Escape closes it.
    let captions = browser
        .js("return [...document.querySelectorAll('#out-pictures .gallery-text')].map(c => c.textContent)")
        .await;
    assert_eq!(
        captions,
        serde_json::json!(["original", "inverted", "3 x 3 checkerboard"])
    );
    let open = || browser.js("return document.querySelector('#out-pictures dialog').open");
    assert_eq!(open().await, false);
    browser.click("#out-pictures .gallery-thumb[data-index='1']").await;
    assert_eq!(open().await, true, "a click enlarges the picture");
    assert_eq!(
        browser
            .js("return document.querySelector('#out-pictures .gallery-big').alt")
            .await,
        "inverted"
    );
    let big = browser
        .js("return document.querySelector('#out-pictures .gallery-big').getBoundingClientRect().width")
        .await;
    let thumb = browser
        .js("return document.querySelector('#out-pictures .gallery-thumb img').getBoundingClientRect().width")
        .await;
    assert!(
        big.as_f64().unwrap() > 2.0 * thumb.as_f64().unwrap(),
        "larger: {big} vs {thumb}"
    );
    assert_eq!(
        browser.js("return document.activeElement.textContent").await,
        "Close",
        "the dialog takes the focus"
    );
    let focused = browser.client.active_element().await.unwrap();
    focused.send_keys(ESCAPE).await.unwrap();
    assert_eq!(open().await, false, "Escape closes the enlarged view");
    assert_eq!(
        browser.js("return document.activeElement.dataset.index").await,
        "1",
        "the focus returns to the thumbnail"
    );
    browser.click("#out-pictures .gallery-thumb[data-index='2']").await;
    browser.click("#out-pictures .gallery-close").await;
    assert_eq!(open().await, false, "Close closes it too");

    // AnnotatedImage: the default 96 x 64 image's bright pixels span x 10..84, y 8..57.
    let boxes = browser
        .js(
            "const img = document.querySelector('#out-detections .annotated-stage img').getBoundingClientRect();
             return [...document.querySelectorAll('#out-detections .annotation-box')].map(b => {
               const r = b.getBoundingClientRect();
               return [b.dataset.label, (r.left - img.left) / img.width * 96, (r.top - img.top) / img.height * 64,
                       r.width / img.width * 96, r.height / img.height * 64, getComputedStyle(b).borderTopColor,
                       b.querySelector('.annotation-tag').textContent];
             })",
        )
        .await;
    let boxes = boxes.as_array().unwrap();
    assert_eq!(boxes.len(), 2, "{boxes:?}");
    let bright = &boxes[0];
    assert_eq!(bright[0], "bright");
    for (i, want) in [(1, 10.0), (2, 8.0), (3, 75.0), (4, 50.0)] {
        let got = bright[i].as_f64().unwrap();
        assert!(
            (got - want).abs() < 0.6,
            "bright box value {i}: {got} in image pixels, want {want}"
        );
    }
    assert_eq!(
        bright[5], "rgb(230, 159, 0)",
        "the first label takes the palette's first colour"
    );
    assert_eq!(boxes[1][5], "rgb(86, 180, 233)", "the second label the second");
    assert!(bright[6].as_str().unwrap().starts_with("bright "), "{bright:?}");
    assert_eq!(browser.count("#out-detections canvas.annotation-mask").await, 1);
    assert_eq!(
        browser
            .js(
                "return [...document.querySelectorAll('#out-detections .annotation-legend li')].map(l => l.textContent)"
            )
            .await,
        serde_json::json!(["bright (1)", "dark (1)"])
    );

    // Markdown: headings, emphasis, a list, a table and a same-site link, built as elements.
    assert_eq!(browser.text("#out-card .markdown h5").await, "My experiment");
    assert_eq!(browser.text("#out-card .markdown strong").await, "green");
    assert_eq!(browser.count("#out-card .markdown ul li").await, 1);
    assert_eq!(browser.count("#out-card .markdown table tbody tr").await, 2);
    assert_eq!(
        browser
            .js("return document.querySelector('#out-card .markdown a').getAttribute('href')")
            .await,
        "/docs/"
    );
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markdown_from_a_visitor_cannot_run_scripts_load_images_or_follow_javascript_links() {
    let url = serve(gallery()).await;
    let browser = Browser::start(1280, 1400).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    let notes = "<script>window.pwned = 1</script>\n\n<img src=x onerror=\"window.pwned = 2\">\n\n\
                 [click me](javascript:window.pwned=3) [cased](JaVaScRiPt:window.pwned=4) \
                 [fine](https://example.org/a)\n\n![pixel](http://127.0.0.1:9/pixel.png)\n\n\
                 <a href=\"javascript:window.pwned=5\">raw link</a>";
    let field = browser.client.find(Locator::Css("#in-notes")).await.unwrap();
    field.send_keys(notes).await.unwrap();
    submit(&browser).await;
    let card = browser.wait_for_text("#out-card .markdown", "click me").await;
    assert!(
        card.contains("<script>window.pwned = 1</script>"),
        "raw HTML is shown as text: {card}"
    );
    assert!(card.contains("<img src=x onerror=\"window.pwned = 2\">"), "{card}");
    assert!(card.contains("pixel"), "an image shows its alt text: {card}");
    let found = browser
        .js("const md = document.querySelector('#out-card .markdown');
             return [md.querySelectorAll('script, img, iframe, object, embed, [onerror], [onclick], [style]').length,
                     [...md.querySelectorAll('a')].map(a => a.getAttribute('href'))]")
        .await;
    assert_eq!(
        found,
        serde_json::json!([0, ["/docs/", "https://example.org/a"]]),
        "no active element and only the safe links"
    );
    // Clicking the text of the dropped links does nothing either.
    for text in ["click me", "cased", "raw link"] {
        browser
            .js(&format!(
                "[...document.querySelectorAll('#out-card .markdown span')].find(s => s.textContent === {text:?})?.click()"
            ))
            .await;
    }
    // Give an onerror handler the time to fire if an <img> had slipped through.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(browser.js("return window.pwned === undefined").await, true);
    browser.close().await;
}
