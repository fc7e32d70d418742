//! The forecasting GUI in headless Chromium through nginx in front of three replicas: the page submits
//! its form as a job and follows the job's events, and the balancer sends those requests wherever it
//! likes. The forecast must show each time, and the access log must show a job followed on another
//! replica than the one that took it (else the test proved nothing).

use easymlserve_testkit::Browser;

use crate::cluster::{Cluster, LEASE};
use crate::util::sample;

/// The replica (`upstream=` in nginx's access log) of each request for which `wanted` holds, in the
/// order they ended.
fn upstreams(log: &[String], wanted: impl Fn(&str) -> bool) -> Vec<String> {
    log.iter()
        .filter(|line| wanted(line))
        .filter_map(|line| Some(line.split_once("upstream=")?.1.split_whitespace().next()?.to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_gui_through_nginx_shows_forecasts_whichever_replica_answers() {
    let cluster = Cluster::start(3, LEASE).await;
    let browser = Browser::start(1280, 1600).await;
    browser.open_gui(&format!("{}/ui/", cluster.nginx.url())).await;
    let submits = 4;
    for round in 1..=submits {
        browser.upload("csv", &sample("2019-01.csv")).await;
        browser.wait_for_text("#field-csv .preview", "744 rows").await;
        browser.click("#submit").await;
        browser.wait_for_text("#status", "Done in").await;
        assert_eq!(
            browser.count("#out-forecast svg path").await,
            4,
            "round {round}: measured load, LR, SVR and RF"
        );
        browser.js("document.getElementById('status').textContent = ''").await;
    }
    browser.close().await;

    // Which replica took each job and which streamed its events: the rounds ran one after another,
    // so the n-th submit belongs to the n-th stream.
    let log = cluster.nginx.access_log();
    let posts = upstreams(&log, |line| line.starts_with("POST /ui/jobs "));
    let streams = upstreams(&log, |line| {
        line.starts_with("GET /ui/jobs/") && line.contains("/events ")
    });
    assert_eq!((posts.len(), streams.len()), (submits, submits), "{log:?}");
    let crossed = posts
        .iter()
        .zip(&streams)
        .filter(|(post, stream)| post != stream)
        .count();
    eprintln!("gui through nginx: {submits} jobs, {crossed} followed on another replica than the one that took them");
    assert!(
        crossed > 0,
        "every job was followed on the replica that took it: {log:?}"
    );
}
