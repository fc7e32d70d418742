//! Three replicas of the `load-forecasting` binary behind a real nginx, sharing one `redis-server` as
//! their job store, under a bounded load of plain calls, web GUI submissions and async jobs:
//!
//! - a rolling restart (SIGTERM, exit 0, a fresh replica on the same port, ready, the next one) loses
//!   nothing: every request gets its correct answer and every job finishes, readable from any replica;
//! - the web GUI needs no sticky sessions: a GUI job submitted on one replica is followed on another;
//! - a `kill -9` of one replica fails at most the requests in flight on it, and the jobs it held end
//!   `job_lost` by lease and finish when submitted again.
//!
//! They print their counts (requests per kind, retries nginx made, restart durations) to stderr. The
//! long version is `reliability/rolling-restart.sh`, which sizes them with `EASYMLSERVE_ROLLING_*`.
//! They need the Debian packages nginx and redis-server (`scripts/test` installs them).

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod browser;
mod cluster;
mod load;
#[allow(dead_code)] // shared with the forecast tests; these use only some of the helpers
#[path = "../forecast/util.rs"]
mod util;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::cluster::{Cluster, LEASE, SHORT_LEASE};
use crate::load::{Progress, Reference, Tally};

/// Requests in flight at once.
const CONCURRENCY: usize = 32;
/// Requests per run unless `EASYMLSERVE_ROLLING_REQUESTS` says otherwise: enough that the load outlasts
/// three restarts here (about 250 requests a second on two cores, debug build).
const DEFAULT_REQUESTS: usize = 3000;
/// Jobs submitted to the replica that is then killed.
const HELD: usize = 8;

/// A size from the environment (the long run sets them), else `default`.
fn knob(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a count")),
        Err(_) => default,
    }
}

fn print_tally(what: &str, tally: &Tally, retries: usize) {
    eprintln!(
        "{what}: {} answered in {:.1?} (process {}, GUI {}, jobs {}, GUI jobs {}), {} failed, {} lost jobs \
         ({} resubmitted and finished), {} ended during the disruption, nginx retried {retries} attempts",
        tally.answered(),
        tally.took,
        tally.ok[0],
        tally.ok[1],
        tally.ok[2],
        tally.ok[3],
        tally.failures.len(),
        tally.lost.len(),
        tally.resubmitted_ok,
        tally.during_disruption,
    );
    for failure in tally.failures.iter().take(10) {
        eprintln!("  failed: {failure}");
    }
}

/// Job `path` at `base`: it must have succeeded with the reference answer.
async fn assert_finished(http: &reqwest::Client, base: &str, path: &str, reference: &Reference) {
    let response = http.get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(response.status(), 200, "{base}{path}");
    let state: Value = response.json().await.unwrap();
    assert_eq!(state["status"], "succeeded", "{base}{path}: {state}");
    assert!(state["result"] == reference.answer, "{base}{path}: another result");
}

/// Starts `requests` requests through the cluster's nginx, [`CONCURRENCY`] at a time, in the background.
fn start_load(
    cluster: &Cluster,
    requests: usize,
    reference: &Arc<Reference>,
) -> (tokio::task::JoinHandle<Tally>, Arc<Progress>) {
    let progress = Arc::new(Progress::default());
    let load = load::run(
        cluster.nginx.url(),
        requests,
        CONCURRENCY,
        Arc::clone(reference),
        Arc::clone(&progress),
    );
    (tokio::spawn(load), progress)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_restart_under_load_answers_every_request_and_finishes_every_job() {
    let requests = knob("EASYMLSERVE_ROLLING_REQUESTS", DEFAULT_REQUESTS);
    let rounds = knob("EASYMLSERVE_ROLLING_ROUNDS", 1);
    let mut cluster = Cluster::start(3, LEASE).await;
    let reference = Arc::new(Reference::from(cluster.replica(0).url()).await);
    let (load, progress) = start_load(&cluster, requests, &reference);

    progress.wait_done(CONCURRENCY).await;
    progress.disrupted.store(true, Ordering::Relaxed);
    let mut restarts = Vec::new();
    for _ in 0..rounds {
        for i in 0..cluster.replicas.len() {
            restarts.push(cluster.restart(i).await);
        }
    }
    progress.disrupted.store(false, Ordering::Relaxed);
    let outlasted = !load.is_finished();
    let tally = load.await.unwrap();

    print_tally("rolling restart", &tally, cluster.nginx.retries());
    for (i, (stop, start)) in restarts.iter().enumerate() {
        eprintln!("  restart {i}: SIGTERM to exit {stop:.2?}, start to ready {start:.2?}");
    }
    eprintln!("  the load was still running when the last replica was back: {outlasted}");
    assert!(tally.failures.is_empty(), "{} requests failed", tally.failures.len());
    assert_eq!(tally.answered(), requests);
    assert!(
        tally.lost.is_empty(),
        "jobs lost in a rolling restart: {:?}",
        tally.lost
    );
    assert!(
        tally.during_disruption > 0,
        "no request ended during the restarts; raise EASYMLSERVE_ROLLING_REQUESTS"
    );

    let http = reqwest::Client::new();
    let mut bases = vec![cluster.nginx.url()];
    bases.extend(cluster.urls());
    for path in &tally.jobs {
        for base in &bases {
            assert_finished(&http, base, path, &reference).await;
        }
    }
    eprintln!(
        "  {} jobs read back through nginx and from each of the 3 replicas",
        tally.jobs.len()
    );
}

/// Submits `body` as a job at `base`; returns its path.
async fn submit_job(http: &reqwest::Client, base: &str, body: &Value) -> String {
    let response = http
        .post(format!("{base}/process"))
        .header("prefer", "respond-async")
        .json(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// The state of job `path` at `base` once it has ended, polled for up to `within`.
async fn wait_end(http: &reqwest::Client, base: &str, path: &str, within: Duration) -> Value {
    let started = Instant::now();
    loop {
        let response = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let state: Value = response.json().await.unwrap();
        if !matches!(state["status"].as_str(), Some("queued" | "running")) {
            return state;
        }
        assert!(started.elapsed() < within, "{path} never ended in {within:?}: {state}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_replica_fails_at_most_its_in_flight_requests_and_its_jobs_end_lost() {
    let requests = knob("EASYMLSERVE_ROLLING_REQUESTS", DEFAULT_REQUESTS);
    let mut cluster = Cluster::start(3, SHORT_LEASE).await;
    let reference = Arc::new(Reference::from(cluster.replica(0).url()).await);
    let http = reqwest::Client::new();
    // The jobs the victim holds when it dies: a whole month with all three models, longer to run.
    let heavy = util::request_from_csv(&util::sample("2019-01.csv"), &["LR", "SVR", "RF"]);
    let heavy_answer: Value = http
        .post(format!("{}/process", cluster.replica(0).url()))
        .json(&heavy)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let victim = 1;

    let (load, progress) = start_load(&cluster, requests, &reference);
    progress.wait_done(requests / 4).await;
    progress.disrupted.store(true, Ordering::Relaxed);
    // Submitted to the victim directly, all at once, and the victim killed as soon as it took them.
    let victim_url = cluster.replica(victim).url().to_owned();
    let submits: Vec<_> = (0..HELD)
        .map(|_| {
            let (http, url, body) = (http.clone(), victim_url.clone(), heavy.clone());
            tokio::spawn(async move { submit_job(&http, &url, &body).await })
        })
        .collect();
    let mut held = Vec::new();
    for submit in submits {
        held.push(submit.await.unwrap());
    }
    let victim_addr = cluster.replica(victim).addr().to_owned();
    let killed_at = Instant::now();
    let kill_from = SystemTime::now();
    cluster.kill(victim);
    let kill_to = SystemTime::now();
    progress.wait_done(requests / 2).await;
    progress.disrupted.store(false, Ordering::Relaxed);
    let tally = load.await.unwrap();

    print_tally("kill -9", &tally, cluster.nginx.retries());
    // What nginx had sent to the victim and not yet seen answered when it died.
    let in_flight = cluster.nginx.in_flight_on(&victim_addr, kill_from, kill_to);
    eprintln!(
        "  {} failed; {in_flight} requests were in flight on the victim when it was killed",
        tally.failures.len()
    );
    assert!(
        tally.failures.len() <= in_flight.min(CONCURRENCY),
        "{} failed; at most the {in_flight} in flight on the victim may",
        tally.failures.len()
    );
    assert_eq!(tally.answered() + tally.failures.len(), requests);

    // The victim's own jobs: each finished before the kill, or ends lost once its lease expires (a
    // generous bound: the reaper's timing on a loaded machine is not what is tested).
    let mut lost = Vec::new();
    for path in &held {
        let state = wait_end(&http, &cluster.nginx.url(), path, Duration::from_secs(90)).await;
        match state["status"].as_str() {
            Some("succeeded") => assert!(state["result"] == heavy_answer, "{path}: another result"),
            Some("failed") => {
                assert_eq!(state["error"]["error_type"], "job_lost", "{path}: {state}");
                lost.push(path);
            }
            _ => panic!("{path} ended as {state}"),
        }
    }
    eprintln!(
        "  the victim held {} jobs: {} finished before the kill, {} ended job_lost (all read {:.1?} after it)",
        held.len(),
        held.len() - lost.len(),
        lost.len(),
        killed_at.elapsed()
    );
    assert!(!lost.is_empty(), "the victim held no unfinished job when it died");
    // Submitted again, all at once, as clients that saw job_lost would.
    let again: Vec<_> = lost
        .iter()
        .map(|_| {
            let (http, base, body) = (http.clone(), cluster.nginx.url(), heavy.clone());
            tokio::spawn(async move {
                let path = submit_job(&http, &base, &body).await;
                let state = wait_end(&http, &base, &path, Duration::from_secs(60)).await;
                (path, state)
            })
        })
        .collect();
    for resubmitted in again {
        let (path, state) = resubmitted.await.unwrap();
        assert_eq!(state["status"], "succeeded", "resubmitted {path}: {state}");
        assert!(state["result"] == heavy_answer, "resubmitted {path}: another result");
    }
    eprintln!("  {} lost jobs submitted again through nginx and finished", lost.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_gui_job_submitted_on_one_replica_is_shown_by_another() {
    let cluster = Cluster::start(2, LEASE).await;
    let (a, b) = (cluster.replica(0).url(), cluster.replica(1).url());
    let reference = Reference::from(a).await;
    let http = reqwest::Client::new();
    let form = load::gui_form(&reference.csv);
    let submitted: Value = http
        .post(format!("{a}/ui/jobs"))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = submitted["job"].as_str().unwrap();
    // B never saw the form: it reads the job's request from Redis and renders the answer itself.
    let events = http.get(format!("{b}/ui/jobs/{id}/events")).send().await.unwrap();
    assert_eq!(events.status(), 200);
    let text = events.text().await.unwrap();
    let (name, data) = load::last_event(&text).unwrap();
    assert_eq!(name, "outputs", "{text}");
    assert!(load::untimed(data) == reference.gui, "B rendered another answer than A");
    // A job B does not know at all is still a 404 in the GUI's error shape.
    let unknown = http.get(format!("{b}/ui/jobs/job-0000/events")).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    // And through nginx, where each request may land on either replica.
    for _ in 0..10 {
        match load::gui_job(&http, &cluster.nginx.url(), &reference).await {
            Ok(load::Followed::Succeeded(_)) => {}
            Ok(load::Followed::Lost(path)) => panic!("{path} lost with no replica stopped"),
            Err(why) => panic!("{why}"),
        }
    }
}
