//! The page with a slow model in headless Chromium, co-hosted in a real server: the progress bar rises
//! with the model's messages, the clock and the ETA; Cancel cancels the job (the server's metrics say
//! so); a dropped connection resumes with `Last-Event-ID`, and a reload finds the job by its fragment
//! and shows the outputs.

use std::sync::Arc;
use std::time::Duration;

use easymlserve_server::{Mount, Server, ServerConfig};
use easymlserve_testkit::{Browser, serve};
use easymlserve_web::{PageInfo, UiRunner, ui_routes};
use serde_json::Value;

use super::{Steps, StepsUi};

/// A server for the slow model with its GUI at `/ui/`, as `with_ui` co-hosts it.
async fn start() -> String {
    let server = Server::new(Steps)
        .config(ServerConfig {
            workers: 1,
            ..ServerConfig::default()
        })
        .mount(|ctx| {
            let page = PageInfo {
                process_url: None,
                auth_required: ctx.auth_required,
            };
            let routes = ui_routes(Arc::new(UiRunner::new(
                Arc::new(StepsUi),
                ctx.caller,
                page,
                ctx.body_limit,
            )));
            Mount {
                public: routes.public,
                protected: Some(routes.protected),
                home: Some("/ui/".to_owned()),
            }
        });
    serve(server).await
}

/// Fills the form for `steps` steps of `step_ms` and submits it.
async fn submit(browser: &Browser, text: &str, steps: u32, step_ms: u64) {
    let script = format!(
        "const set = (id, v) => {{ const n = document.getElementById(id); n.value = v; n.dispatchEvent(new Event('input')); }};
         set('in-text', '{text}'); set('in-steps', '{steps}'); set('in-step_ms', '{step_ms}');"
    );
    browser.js(&script).await;
    browser.click("#submit").await;
}

/// The bar's value, `None` while it is indeterminate.
async fn bar(browser: &Browser) -> Option<f64> {
    browser
        .js("const b = document.getElementById('job-progress'); return b.hasAttribute('value') ? b.value : null;")
        .await
        .as_f64()
}

/// Waits until the bar has a value of at least `least`.
async fn bar_at_least(browser: &Browser, least: f64) -> f64 {
    for _ in 0..200 {
        if let Some(value) = bar(browser).await.filter(|v| *v >= least) {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the progress bar never reached {least}");
}

async fn fragment(browser: &Browser) -> String {
    browser
        .js("return window.location.hash;")
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

/// The count of jobs that ended with `outcome`, from `GET /metrics`.
async fn jobs_ended(url: &str, outcome: &str) -> f64 {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let label = format!("outcome=\"{outcome}\"");
    text.lines()
        .filter(|l| l.starts_with("easymlserve_jobs_total{") && l.contains(&label))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bar_rises_and_cancel_cancels_the_job() {
    let url = start().await;
    let browser = Browser::start(1200, 900).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    submit(&browser, "slow", 60, 100).await;
    browser.wait_for("#job:not([hidden])").await;
    assert!(
        fragment(&browser).await.starts_with("#job="),
        "the job's id is in the fragment"
    );
    let label = browser.text("label[for=job-progress]").await;
    assert_eq!(label, "Progress", "the bar has a label");

    let first = bar_at_least(&browser, 0.01).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let second = bar(&browser).await.unwrap();
    assert!(second > first, "the bar rises: {first} then {second}");
    let message = browser.wait_for_text("#job-text", "step ").await;
    assert!(message.ends_with(" of 60"), "{message}");
    assert_eq!(
        browser
            .js("return document.getElementById('job-text').getAttribute('aria-live');")
            .await,
        "polite"
    );
    browser.wait_for_text("#job-time", "Elapsed 1 s").await;
    assert!(browser.text("#job-time").await.contains("left"), "an ETA");

    browser.click("#cancel").await;
    browser.wait_for_text("#status", "Canceled after").await;
    browser.wait_for("#job[hidden]").await;
    assert_eq!(fragment(&browser).await, "", "the fragment is cleared");
    assert_eq!(browser.text("#banner").await, "", "a cancel is no error");
    assert!(browser.text("#out-out").await.contains("Submit the form"), "no outputs");
    assert_eq!(jobs_ended(&url, "canceled").await, 1.0);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_resumes_and_a_reload_finds_the_job() {
    let url = start().await;
    let browser = Browser::start(1200, 900).await;
    browser.open_gui(&format!("{url}/ui/")).await;
    // Stands in for the network: records each events request's Last-Event-ID and can break the stream.
    browser
        .js("const fetch0 = window.fetch; window.lastIds = []; window.drops = [];
             window.fetch = (url, options) => {
               if (!String(url).endsWith('/events')) return fetch0(url, options);
               const drop = new AbortController();
               window.drops.push(drop);
               window.lastIds.push(options.headers['Last-Event-ID'] || null);
               return fetch0(url, { ...options, signal: drop.signal });
             };")
        .await;
    submit(&browser, "resumed", 50, 100).await;
    bar_at_least(&browser, 0.06).await;
    browser.js("window.drops[0].abort();").await;
    let mut ids = Value::Null;
    for _ in 0..100 {
        ids = browser.js("return window.lastIds;").await;
        if ids.as_array().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ids[0], Value::Null, "the first request starts at the beginning");
    let resumed_after: u64 = ids[1]
        .as_str()
        .expect("a Last-Event-ID on reconnecting")
        .parse()
        .unwrap();
    assert!(resumed_after >= 2, "resumed after event {resumed_after}");
    let before = bar(&browser).await.unwrap();
    bar_at_least(&browser, before + 0.04).await;

    // A reload mid-job: the page follows the same job again and shows its outputs.
    let job = fragment(&browser).await;
    assert!(job.starts_with("#job="), "{job}");
    browser.client.refresh().await.unwrap();
    browser.wait_for("body[data-ready=true]").await;
    assert_eq!(fragment(&browser).await, job);
    browser.wait_for("#job:not([hidden])").await;
    browser.wait_for_text("#job-text", "step ").await;
    assert!(bar(&browser).await.unwrap() > 0.1, "the bar resumes where the job is");
    browser.wait_for_text("#status", "Done in").await;
    assert_eq!(browser.text("#out-out pre").await, "RESUMED");
    assert_eq!(fragment(&browser).await, "");
    // The resumed job's request comes from the job store when the API panel is opened.
    browser.click("#api-panel summary").await;
    let curl = browser.wait_for_text("#curl", "curl -X POST").await;
    assert!(curl.contains(r#""steps":50"#), "the request for the API panel: {curl}");
    browser.close().await;
}
