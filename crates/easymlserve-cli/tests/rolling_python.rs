//! A Python service (the toolbox) as three `easymlserve serve --python` replicas behind a real nginx,
//! sharing one `redis-server` as their job store: a rolling restart (SIGTERM, exit 0, a fresh replica
//! on the same port, ready, the next one) under a bounded load of plain calls, web GUI submissions and
//! async jobs loses nothing. A shorter run than the forecasting one (examples/load-forecasting/tests/
//! rolling), since each replica starts a Python worker. And the Redis hand-back through a real SIGTERM:
//! a job still running at a replica's drain deadline is finished by the other replica, on one event
//! stream read through nginx.
//!
//! It needs a Python with pydantic (`$EASYMLSERVE_TEST_VENV_SDK_PYDANTIC2`, made by `scripts/test`;
//! without it the tests say they are skipped, except under the `ci` profile, where they fail), nginx
//! and redis-server (Debian packages `scripts/test` installs).

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use easymlserve_testkit::{Nginx, Redis, Replica, free_port, venv_python};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_easymlserve");
/// Requests in flight at once.
const CONCURRENCY: usize = 32;

/// How a replica of the rolling restart drains: a one-second delay, then up to 20 s for its work.
const DRAIN: [&str; 4] = ["--shutdown-delay-secs", "1", "--shutdown-timeout-secs", "20"];

async fn start_replica(python: &Path, port: u16, redis: &Redis) -> Replica {
    start_replica_with(python, port, redis, &DRAIN).await
}

/// A toolbox replica on `port` with one worker and the Redis job store, plus the flags `extra`.
async fn start_replica_with(python: &Path, port: u16, redis: &Redis, extra: &[&str]) -> Replica {
    let toolbox = Path::new(env!("CARGO_MANIFEST_DIR")).join("../easymlserve-worker/tests/services/toolbox.py");
    let mut command = Command::new(BIN);
    command
        .arg("serve")
        .arg("--python")
        .arg(toolbox)
        .arg("--python-bin")
        .arg(python)
        .args(["--port", &port.to_string(), "--workers", "1"])
        .args(["--job-store", &redis.url(), "--jobs-max", "100000"])
        .args(extra)
        .env_remove("EASYMLSERVE_API_KEYS")
        .env_remove("EASYMLSERVE_PORT")
        .env_remove("PORT");
    Replica::start(command, Duration::from_secs(90)).await
}

/// `value` without its `pid` fields (and the GUI's `pid` output): which worker answered differs, the rest
/// must not.
fn without_pid(mut value: Value) -> Value {
    match &mut value {
        Value::Object(object) => {
            object.remove("pid");
            for (_, inner) in object.iter_mut() {
                *inner = without_pid(inner.take());
            }
        }
        Value::Array(items) => {
            items.retain(|item| item.get("name").and_then(Value::as_str) != Some("pid"));
            for inner in items.iter_mut() {
                *inner = without_pid(inner.take());
            }
        }
        _ => {}
    }
    value
}

/// The GUI's form as the page sends it, `multipart/form-data` written out by hand (this crate's
/// reqwest has no multipart feature).
const BOUNDARY: &str = "rolling-python-form";

fn gui_submit(http: &reqwest::Client, base: &str) -> reqwest::RequestBuilder {
    let mut body = String::new();
    for (name, value) in [("action", "echo"), ("text", "rolling"), ("n", "7"), ("seconds", "0")] {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{BOUNDARY}--\r\n"));
    http.post(format!("{base}/ui/submit"))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
}

/// The answers one replica gives directly, without their pids.
struct Reference {
    process: Value,
    gui: Value,
}

const BODY: fn() -> Value = || json!({"action": "progress", "text": "rolling", "n": 3});

/// Request `i`: a plain call, a GUI submission or a job followed by polling, all through `base`.
async fn one(http: &reqwest::Client, base: &str, i: usize, reference: &Reference) -> Result<(), String> {
    let text = |r: reqwest::Result<reqwest::Response>| async move {
        let r = r.map_err(|e| format!("connection error: {e}"))?;
        let status = r.status().as_u16();
        let body = r.text().await.map_err(|e| format!("{status}: body cut: {e}"))?;
        Ok::<_, String>((status, body))
    };
    match i % 3 {
        0 => {
            let (status, body) = text(http.post(format!("{base}/process")).json(&BODY()).send().await).await?;
            let answer: Value = serde_json::from_str(&body).map_err(|_| format!("{status} {body}"))?;
            (status == 200 && without_pid(answer) == reference.process)
                .then_some(())
                .ok_or(format!("/process: {status} {body}"))
        }
        1 => {
            let (status, body) = text(gui_submit(http, base).send().await).await?;
            let mut answer: Value = serde_json::from_str(&body).map_err(|_| format!("{status} {body}"))?;
            answer.as_object_mut().map(|o| o.remove("elapsed_ms"));
            (status == 200 && without_pid(answer) == reference.gui)
                .then_some(())
                .ok_or(format!("/ui/submit: {status} {body}"))
        }
        _ => {
            let submitted = http
                .post(format!("{base}/process"))
                .header("prefer", "respond-async")
                .json(&BODY())
                .send()
                .await
                .map_err(|e| format!("submit: connection error: {e}"))?;
            if submitted.status() != 202 {
                return Err(format!("submit: {}", submitted.status()));
            }
            let path = submitted.headers()["location"].to_str().unwrap().to_owned();
            let started = Instant::now();
            loop {
                let (status, body) = text(http.get(format!("{base}{path}")).send().await).await?;
                let state: Value = serde_json::from_str(&body).map_err(|_| format!("{status} {body}"))?;
                match state["status"].as_str() {
                    Some("succeeded") if without_pid(state["result"].clone()) == reference.process => return Ok(()),
                    Some("queued" | "running") if started.elapsed() < Duration::from_secs(60) => {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    _ => return Err(format!("{path}: {status} {state}")),
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_restart_of_python_replicas_answers_every_request() {
    let Some(python) = venv_python("SDK_PYDANTIC2") else {
        return;
    };
    let requests: usize = std::env::var("EASYMLSERVE_ROLLING_PYTHON_REQUESTS")
        .map(|v| v.parse().unwrap())
        .unwrap_or(900);
    let redis = Redis::start();
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut replicas = Vec::new();
    for &port in &ports {
        replicas.push(Some(start_replica(&python, port, &redis).await));
    }
    let nginx = Nginx::start(&ports).await;

    let http = reqwest::Client::new();
    let direct = replicas[0].as_ref().unwrap().url().to_owned();
    let process: Value = http
        .post(format!("{direct}/process"))
        .json(&BODY())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut gui: Value = gui_submit(&http, &direct).send().await.unwrap().json().await.unwrap();
    gui.as_object_mut().unwrap().remove("elapsed_ms");
    assert_eq!(process["text"], "rolling", "{process}");
    assert!(gui["outputs"].is_array(), "{gui}");
    let reference = Arc::new(Reference {
        process: without_pid(process),
        gui: without_pid(gui),
    });

    let (next, done) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let failures = Arc::new(std::sync::Mutex::new(Vec::new()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (http, base, reference) = (http.clone(), nginx.url(), Arc::clone(&reference));
        let (next, done, failures) = (Arc::clone(&next), Arc::clone(&done), Arc::clone(&failures));
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    break;
                }
                if let Err(why) = one(&http, &base, i, &reference).await {
                    failures.lock().unwrap().push(format!("request {i}: {why}"));
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    while done.load(Ordering::Relaxed) < CONCURRENCY {
        assert!(started.elapsed() < Duration::from_secs(60), "the load stalled");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut restarts = Vec::new();
    for (i, &port) in ports.iter().enumerate() {
        let at = Instant::now();
        let mut old = replicas[i].take().unwrap();
        let exit = old.terminate(Duration::from_secs(30)).await;
        assert!(exit.success(), "replica {i} exited with {exit}: {:?}", old.log());
        let stopped = at.elapsed();
        drop(old);
        let at = Instant::now();
        replicas[i] = Some(start_replica(&python, port, &redis).await);
        restarts.push((stopped, at.elapsed()));
    }
    let during = done.load(Ordering::Relaxed);
    for task in tasks {
        task.await.unwrap();
    }
    let failures = failures.lock().unwrap();
    eprintln!(
        "python rolling restart: {requests} requests in {:.1?} ({during} ended by the last restart), \
         {} failed, nginx retried {} attempts",
        started.elapsed(),
        failures.len(),
        nginx.retries()
    );
    for (i, (stop, start)) in restarts.iter().enumerate() {
        eprintln!("  restart {i}: SIGTERM to exit {stop:.2?}, start to ready {start:.2?}");
    }
    for failure in failures.iter().take(10) {
        eprintln!("  failed: {failure}");
    }
    assert!(failures.is_empty(), "{} requests failed", failures.len());
    assert!(
        during < requests,
        "the load ended before the restarts; raise EASYMLSERVE_ROLLING_PYTHON_REQUESTS"
    );
}

/// The (id, event name) of each event of a Server-Sent Events text.
fn events_of(text: &str) -> Vec<(Option<u64>, String)> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event:"))?.trim().to_owned();
            let id = block
                .lines()
                .find_map(|l| l.strip_prefix("id:"))
                .and_then(|v| v.trim().parse().ok());
            Some((id, name))
        })
        .collect()
}

/// The state of job `path` at `base`, polled until `done` holds for it or `within` has passed.
async fn poll_job(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    within: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let response = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{base}{path}");
        let state: Value = response.json().await.unwrap();
        if done(&state) {
            return state;
        }
        assert!(started.elapsed() < within, "{base}{path} after {within:?}: {state}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The hand-back through a real SIGTERM: a job still running when its replica's drain deadline comes is
/// handed back through Redis, the other replica claims it and finishes it, and a client reading through
/// nginx sees it succeed with one numbered event stream, while the stopped replica exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_running_past_the_drain_deadline_is_handed_back_on_sigterm_and_another_replica_finishes_it() {
    let Some(python) = venv_python("SDK_PYDANTIC2") else {
        return;
    };
    let redis = Redis::start();
    let ports = [free_port(), free_port()];
    // A gives its work one second after its one-second drain delay, far less than the job needs; the
    // short lease makes B's reaper look for handed-back jobs every two seconds.
    let a_flags = [DRAIN[0], "1", DRAIN[2], "1", "--jobs-lease-secs", "2"];
    let mut a = start_replica_with(&python, ports[0], &redis, &a_flags).await;
    let b_flags = [&DRAIN[..], &["--jobs-lease-secs", "2"]].concat();
    let _b = start_replica_with(&python, ports[1], &redis, &b_flags).await;
    let nginx = Nginx::start(&ports).await;
    let http = reqwest::Client::new();

    // The toolbox writes the pid of the worker that runs the job to the file named by `text`.
    let holder = std::env::temp_dir().join(format!("easymlserve-handback-{}", std::process::id()));
    let _ = std::fs::remove_file(&holder);
    let holder_text = holder.to_str().unwrap();
    let job = json!({"action": "cancellable", "text": holder_text, "seconds": 6.0});
    let submitted = http
        .post(format!("{}/process", a.url()))
        .header("prefer", "respond-async")
        .json(&job)
        .send()
        .await
        .unwrap();
    assert_eq!(submitted.status(), 202);
    let path = submitted.headers()["location"].to_str().unwrap().to_owned();
    let id = path.trim_start_matches("/jobs/").to_owned();
    poll_job(&http, a.url(), &path, Duration::from_secs(30), |s| {
        s["status"] == "running"
    })
    .await;
    let started = Instant::now();
    let on_a = loop {
        if let Ok(pid) = std::fs::read_to_string(&holder) {
            break pid;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "A's worker never took the job"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    std::fs::remove_file(&holder).unwrap();

    let exit = a.terminate(Duration::from_secs(30)).await;
    assert!(exit.success(), "A exited with {exit}: {:?}", a.log());
    let done = poll_job(&http, &nginx.url(), &path, Duration::from_secs(60), |s| {
        !matches!(s["status"].as_str(), Some("queued" | "running"))
    })
    .await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["result"]["text"], holder_text, "{done}");
    // B's worker ran it again from the start and answered.
    let on_b = std::fs::read_to_string(&holder).unwrap();
    std::fs::remove_file(&holder).unwrap();
    assert_ne!(on_a, on_b, "the same worker ran it twice");
    assert_eq!(done["result"]["pid"].to_string(), on_b, "{done}");

    let record: Value = serde_json::from_str(&redis.get(&format!("easymlserve:job:{id}")).unwrap()).unwrap();
    let handoffs = record["handoffs"].as_u64().unwrap();
    assert!(handoffs >= 1, "the job was never handed back: {record}");

    let events = http.get(format!("{}{path}/events", nginx.url())).send().await.unwrap();
    assert_eq!(events.status(), 200);
    let events = events_of(&events.text().await.unwrap());
    let ids: Vec<Option<u64>> = events.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, (1..=ids.len() as u64).map(Some).collect::<Vec<_>>(), "{events:?}");
    let names: Vec<&str> = events.iter().map(|(_, name)| name.as_str()).collect();
    let requeued = names.iter().rposition(|&n| n == "queued").unwrap();
    assert!(
        requeued > 0 && names[..requeued].contains(&"started") && names[requeued..].contains(&"started"),
        "started on A, queued again, started on B: {names:?}"
    );
    assert_eq!(names.last(), Some(&"result"), "{names:?}");
    eprintln!("hand-back on SIGTERM: {handoffs} hand-back(s), events {names:?}");
}
