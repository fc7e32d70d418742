//! `easymlserve serve --python` as a real process: the generated web GUI, a model failure whose
//! traceback reaches the log but not the caller, and SIGTERM under load (every accepted request
//! answered, exit 0, no Python process left).
//!
//! They need a Python with pydantic: `$EASYMLSERVE_TEST_VENV_SDK_PYDANTIC2/bin/python`, which
//! `scripts/test` creates; without the variable each test says it is skipped and passes (under nextest's
//! `ci` profile it fails instead).

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_easymlserve");

fn python_bin() -> Option<PathBuf> {
    easymlserve_testkit::venv_python("SDK_PYDANTIC2")
}

fn toolbox() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../easymlserve-worker/tests/services/toolbox.py")
        .display()
        .to_string()
}

/// The binary serving a Python service on a free port, its log lines collected as they come.
struct Serving {
    child: Child,
    url: String,
    log: Arc<Mutex<Vec<String>>>,
    http: reqwest::Client,
}

fn collect(output: impl Read + Send + 'static, log: &Arc<Mutex<Vec<String>>>) {
    let log = Arc::clone(log);
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines() {
            let Ok(line) = line else { break };
            log.lock().unwrap().push(line);
        }
    });
}

impl Serving {
    async fn start(python: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .args(["serve", "--python", &toolbox(), "--port", "0", "--workers", "2"])
            .arg("--python-bin")
            .arg(python)
            .args(extra)
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
        let started = Instant::now();
        let url = loop {
            let found = log.lock().unwrap().iter().find_map(|line| {
                let at = line.find("listening on http://")? + "listening on ".len();
                Some(line[at..].split_whitespace().next()?.to_owned())
            });
            if let Some(url) = found {
                break url;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not start: {:?}",
                log.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let serving = Self {
            child,
            url,
            log,
            http: reqwest::Client::new(),
        };
        while serving.get("/health/ready").await.0 != 200 {
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "not ready: {:?}",
                serving.log.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        serving
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let response = self.http.get(format!("{}{path}", self.url)).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn post(&self, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/process", self.url))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// The pids of the workers that connected, from the log.
    fn worker_pids(&self) -> Vec<u32> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|line| line.contains("worker connected"))
            .filter_map(|line| {
                let at = line.find(" pid=")? + " pid=".len();
                line[at..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
            })
            .collect()
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the server to exit; returns whether it exited 0.
    async fn wait(&mut self) -> bool {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the server did not exit: {}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn assert_gone(pids: &[u32]) {
    let started = Instant::now();
    for pid in pids {
        while Path::new(&format!("/proc/{pid}")).exists() {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "worker {pid} outlived the server"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_a_python_service_with_a_generated_gui_and_logs_tracebacks_only() {
    let Some(python) = python_bin() else { return };
    let mut serving = Serving::start(&python, &[]).await;

    let (status, page) = serving.get("/ui/").await;
    assert_eq!(status, 200);
    assert!(page.contains("<html") || page.contains("<!DOCTYPE") || page.contains("<!doctype"));
    let (status, ui) = serving.get("/ui/spec").await;
    assert_eq!(status, 200, "{ui}");
    let ui: Value = serde_json::from_str(&ui).unwrap();
    assert!(
        ui.to_string().contains("\"action\""),
        "the form has the request's fields: {ui}"
    );
    let (status, spec) = serving.get("/api/spec").await;
    assert_eq!(status, 200);
    let spec: Value = serde_json::from_str(&spec).unwrap();
    assert_eq!(spec["name"], "Toolbox");
    assert!(spec["ui"].is_object() || spec["ui"].is_array(), "{spec}");
    let (status, openapi) = serving.get("/openapi.json").await;
    assert_eq!(status, 200);
    assert!(openapi.contains("\"cancellable\""));

    let (status, body) = serving.post(json!({"action": "echo", "text": "hi"})).await;
    assert_eq!((status, body["text"].as_str()), (200, Some("hi")), "{body}");
    let (status, body) = serving.post(json!({"action": "fail"})).await;
    assert_eq!(status, 500, "{body}");
    assert!(!body.to_string().contains("4711"), "internals leaked: {body}");
    // The model's print() in load_model and the traceback reach the log, tagged with the worker.
    let started = Instant::now();
    while !serving.log_text().contains("secret detail 4711") {
        assert!(started.elapsed() < Duration::from_secs(5), "{}", serving.log_text());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let log = serving.log_text();
    assert!(log.contains("Traceback (most recent call last)"), "{log}");
    assert!(
        log.contains("toolbox loaded in pid") && log.contains("worker=0"),
        "{log}"
    );

    let pids = serving.worker_pids();
    assert_eq!(pids.len(), 2, "{log}");
    serving.terminate();
    assert!(serving.wait().await, "exit 0 after SIGTERM: {}", serving.log_text());
    assert_gone(&pids).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_answers_every_accepted_request_and_leaves_no_python_process() {
    let Some(python) = python_bin() else { return };
    let mut serving = Serving::start(&python, &[]).await;
    let pids = serving.worker_pids();
    assert_eq!(pids.len(), 2, "{}", serving.log_text());
    let requests: Vec<_> = (0..6)
        .map(|i| {
            let (http, url) = (serving.http.clone(), format!("{}/process", serving.url));
            tokio::spawn(async move {
                let body = json!({"action": "hang", "seconds": 0.7, "n": i});
                let response = http.post(url).json(&body).send().await.unwrap();
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap();
                (i, status, body)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    serving.terminate();
    for request in requests {
        let (i, status, body) = request.await.unwrap();
        assert_eq!((status, body["n"].as_u64()), (200, Some(i)), "{body}");
    }
    assert!(serving.wait().await, "exit 0 after SIGTERM: {}", serving.log_text());
    assert_gone(&pids).await;
}

#[test]
fn serve_needs_a_model_and_an_existing_service_file() {
    let output = Command::new(BIN).arg("serve").output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("--python"));
    let output = Command::new(BIN)
        .args(["serve", "--python", "/nonexistent/service.py:Model", "--port", "0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot find the Python service `/nonexistent/service.py`"),
        "{stderr}"
    );
}
