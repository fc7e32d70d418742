//! Services written for the original EasyMLServe (2022) run unchanged: `examples/python-original` served
//! by `easymlserve serve --python` under pydantic 1 and under pydantic 2 with the same `POST /process`
//! JSON, and started by `python service.py` (its `EasyMLServer(...).deploy()` starts our Rust server on
//! the host, port and API keys the file gives); the generated web GUI of that Python service works in
//! headless Chromium. No Python process outlives the server.
//!
//! They need `scripts/test`'s virtualenvs (`EASYMLSERVE_TEST_VENV_SDK_PYDANTIC1` and `..._PYDANTIC2`);
//! without them each test says it is skipped and passes.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use easymlserve_testkit::Browser;
use fantoccini::Locator;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_easymlserve");

fn venv_python(variable: &str) -> Option<PathBuf> {
    match std::env::var_os(variable) {
        Some(venv) => Some(PathBuf::from(venv).join("bin/python")),
        None => {
            eprintln!("skipped: {variable} is not set; scripts/test creates it");
            None
        }
    }
}

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/python-original")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process, killed (with its workers) if a test fails before stopping it.
struct Running {
    child: Child,
    url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    async fn wait_ready(&mut self) {
        let started = Instant::now();
        loop {
            if let Ok(r) = reqwest::get(format!("{}/health/ready", self.url)).await
                && r.status() == 200
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the server exited with {status} before it was ready");
            }
            assert!(started.elapsed() < Duration::from_secs(60), "not ready after 60 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Worker processes: the children of the server (their pids, from /proc).
    fn worker_pids(&self) -> Vec<u32> {
        let parent = self.child.id();
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
                // Field 4 is the parent pid; the command name in field 2 may hold spaces, so count from ')'.
                let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
                after.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok()) == Some(parent)
            })
            .collect()
    }

    /// SIGTERM, then exit 0, and every worker gone.
    fn stop(mut self) {
        let workers = self.worker_pids();
        assert!(!workers.is_empty(), "the server runs Python workers");
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let started = Instant::now();
        let exit = loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                break exit;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no exit 30 s after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(exit.success(), "exit status {exit}");
        for pid in workers {
            assert!(
                !Path::new(&format!("/proc/{pid}")).exists(),
                "worker {pid} outlived the server"
            );
        }
    }
}

async fn post(url: &str, key: Option<&str>, body: Value) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(format!("{url}/process")).json(&body);
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// The same JSON as the original served: counts, edges, and the service's own refusals.
async fn check_histogram(url: &str, key: Option<&str>) {
    let (status, body) = post(url, key, json!({"values": [1, 2, 2, 3, 10], "bins": 3})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["counts"], json!([4, 0, 1]), "{body}");
    assert_eq!(body["edges"].as_array().unwrap().len(), 4, "{body}");
    let (status, body) = post(url, key, json!({"values": [], "bins": 3})).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("values must not be empty")),
        "{body}"
    );
    let (status, body) = post(url, key, json!({"values": [1.0], "bins": 80})).await;
    assert_eq!(status, 422, "max_bins=50 was set in the file's __main__ block: {body}");
    assert_eq!(body["error"], "bins must be between 1 and 50", "{body}");
    let (status, body) = post(url, key, json!({"values": "one"})).await;
    assert_eq!(
        (status, body["field"].as_str()),
        (422, Some("values")),
        "the Rust edge: {body}"
    );
}

fn serve(python: &Path) -> Running {
    let port = free_port();
    let child = Command::new(BIN)
        .arg("serve")
        .arg("--python")
        .arg(example_dir().join("service.py"))
        .arg("--python-bin")
        .arg(python)
        .args(["--port", &port.to_string(), "--workers", "2"])
        .env_remove("EASYMLSERVE_API_KEYS")
        .env_remove("EASYMLSERVE_PORT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Running {
        child,
        url: format!("http://127.0.0.1:{port}"),
    }
}

async fn served_unchanged(variable: &str) {
    let Some(python) = venv_python(variable) else { return };
    let mut server = serve(&python);
    server.wait_ready().await;
    check_histogram(&server.url, None).await;
    let spec: Value = reqwest::get(format!("{}/api/spec", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(spec["name"], "HistogramService");
    assert_eq!(spec["request_schema"]["properties"]["bins"]["default"], 10, "{spec}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_original_service_runs_unchanged_under_pydantic_1() {
    served_unchanged("EASYMLSERVE_TEST_VENV_SDK_PYDANTIC1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_original_service_runs_unchanged_under_pydantic_2() {
    served_unchanged("EASYMLSERVE_TEST_VENV_SDK_PYDANTIC2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_service_py_starts_the_rust_server_with_the_files_port_and_keys() {
    let Some(python) = venv_python("EASYMLSERVE_TEST_VENV_SDK_PYDANTIC2") else {
        return;
    };
    // The file as it is, but on a free port instead of its 8100 (the rest of it untouched).
    let dir = std::env::temp_dir().join(format!("python-original-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = free_port();
    let source = std::fs::read_to_string(example_dir().join("service.py")).unwrap();
    assert!(source.contains("\"port\": 8100"));
    std::fs::write(
        dir.join("service.py"),
        source.replace("\"port\": 8100", &format!("\"port\": {port}")),
    )
    .unwrap();
    std::fs::copy(example_dir().join("api_schema.py"), dir.join("api_schema.py")).unwrap();
    // The SDK as `pip install ./python` would provide it.
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python");
    let child = Command::new(&python)
        .arg(dir.join("service.py"))
        .current_dir(&dir)
        .env("PYTHONPATH", &sdk)
        .env("EASYMLSERVE_BIN", BIN)
        .env_remove("EASYMLSERVE_API_KEYS")
        .env_remove("EASYMLSERVE_PORT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Running {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    server.wait_ready().await;
    let (status, body) = post(&server.url, None, json!({"values": [1.0], "bins": 1})).await;
    assert_eq!(
        (status, body["error_type"].as_str()),
        (401, Some("unauthorized")),
        "{body}"
    );
    check_histogram(&server.url, Some("histogram-key")).await;
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_gui_of_a_python_service_works_in_the_browser() {
    let Some(python) = venv_python("EASYMLSERVE_TEST_VENV_SDK_PYDANTIC2") else {
        return;
    };
    let mut server = serve(&python);
    server.wait_ready().await;
    let browser = Browser::start(1100, 900).await;
    browser.open_gui(&format!("{}/ui/", server.url)).await;
    assert_eq!(browser.text("#title").await, "HistogramService");
    let values = browser.client.find(Locator::Css("#in-values")).await.unwrap();
    values.clear().await.unwrap();
    values.send_keys("[1, 2, 2, 3, 10]").await.unwrap();
    browser.click("#submit").await;
    // One output per response field, labelled from its name.
    let shown = browser.wait_for_text("#outputs", "Counts").await;
    assert!(shown.contains("Edges"), "{shown}");
    browser.close().await;
    server.stop();
}
