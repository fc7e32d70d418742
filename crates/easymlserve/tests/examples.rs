//! Examples to click (issue 18 item 1), co-hosted, in headless Chromium: the list under the form, a
//! click that fills a text and a file input (the file fetched from the server and set on the picker,
//! so its name shows and the normal submit sends it), and `--cache-examples`: every example computed
//! once at start, a click showing its result with no submit and no further call to the model.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use easymlserve::prelude::*;
use easymlserve::ui::{Example, Table};
use easymlserve_testkit::{Browser, serve};

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Req {
    text: String,
    rows: usize,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
struct Resp {
    summary: String,
}

/// Says what it got, and counts its calls.
struct Counting(Arc<AtomicUsize>);

impl Service for Counting {
    type Request = Req;
    type Response = Resp;
    fn process(&self, r: Req) -> Result<Resp, ServiceError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(Resp {
            summary: format!("{} with {} rows", r.text, r.rows),
        })
    }
}

struct TableUi;

impl Ui for TableUi {
    type Request = Req;
    type Response = Resp;
    fn inputs(&self) -> Vec<Input> {
        vec![Input::text("text", "Text"), Input::csv_file("table", "Table")]
    }
    fn outputs(&self) -> Vec<Output> {
        vec![Output::text("summary", "Summary")]
    }
    fn prepare_request(&self, inputs: &InputValues) -> Result<Req, UiError> {
        let table: &Table = inputs.table("table")?;
        Ok(Req {
            text: inputs.text("text")?.unwrap_or_default().to_owned(),
            rows: table.rows.len(),
        })
    }
    fn process_response(&self, _: &Req, response: Resp) -> Result<OutputValues, UiError> {
        Ok(OutputValues::new().with("summary", OutputValue::Text(response.summary)))
    }
    fn examples(&self) -> Vec<Example> {
        vec![
            Example::new("Two rows")
                .text("text", "small")
                .file("table", "two.csv", b"a,b\n1,2\n3,4\n".to_vec()),
            Example::new("Three rows").text("text", "bigger").file(
                "table",
                "three.csv",
                b"a,b\n1,2\n3,4\n5,6\n".to_vec(),
            ),
        ]
    }
}

async fn served(cache: bool) -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let config = ServerConfig {
        cache_examples: cache,
        ..Default::default()
    };
    let server = Server::new(Counting(Arc::clone(&calls)))
        .config(config)
        .with_ui(TableUi);
    (serve(server).await, calls)
}

async fn wait_for_calls(calls: &AtomicUsize, n: usize) {
    for _ in 0..200 {
        if calls.load(Ordering::SeqCst) >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the service was called {} times, not {n}", calls.load(Ordering::SeqCst));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_fills_text_and_file_and_submit_gives_the_result() {
    let (url, calls) = served(false).await;
    let browser = Browser::start(1280, 1000).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    assert_eq!(browser.count("#examples .example").await, 2);
    assert!(browser.text("#example-1").await.contains("Three rows"));
    assert!(
        browser
            .text("#example-1")
            .await
            .contains("Text: bigger · Table: three.csv"),
        "the first values: {}",
        browser.text("#example-1").await
    );

    browser.click("#example-1").await;
    browser.wait_for_text("#status", "press Submit").await;
    assert_eq!(
        browser.js("return document.getElementById('in-text').value").await,
        "bigger"
    );
    assert_eq!(browser.text("#field-table .file-name").await, "three.csv");
    assert_eq!(
        browser
            .js("return document.getElementById('in-table').files[0].size")
            .await,
        16
    );
    assert!(
        !browser.text("#out-summary").await.contains("rows"),
        "without the cache a click only fills"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    browser.click("#submit").await;
    browser.wait_for_text("#out-summary", "bigger with 3 rows").await;
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    browser.close().await;

    let missing = reqwest::get(format!("{url}/ui/examples/0/result")).await.unwrap();
    assert_eq!(missing.status(), 404);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert_eq!(body["error_type"], "not_cached");
    let none = reqwest::get(format!("{url}/ui/examples/7/files/table")).await.unwrap();
    assert_eq!(none.status(), 404);
    let file = reqwest::get(format!("{url}/ui/examples/0/files/table")).await.unwrap();
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.unwrap().as_ref(), b"a,b\n1,2\n3,4\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_cache_examples_a_click_shows_the_result_computed_at_start() {
    let (url, calls) = served(true).await;
    // Each example runs once, at start, before any page asks.
    wait_for_calls(&calls, 2).await;
    let cached = reqwest::get(format!("{url}/ui/examples/0/result")).await.unwrap();
    assert_eq!(cached.status(), 200);
    let body: serde_json::Value = cached.json().await.unwrap();
    assert_eq!(body["outputs"][0]["value"], "small with 2 rows", "{body}");

    let browser = Browser::start(1280, 1000).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    browser.click("#example-0").await;
    browser.wait_for_text("#out-summary", "small with 2 rows").await;
    browser.wait_for_text("#status", "computed at start").await;
    assert_eq!(
        browser.js("return document.getElementById('in-text').value").await,
        "small"
    );
    assert_eq!(browser.text("#field-table .file-name").await, "two.csv");
    browser.click("#example-1").await;
    browser.wait_for_text("#out-summary", "bigger with 3 rows").await;
    assert_eq!(calls.load(Ordering::SeqCst), 2, "clicks call nothing");
    browser.close().await;
}
