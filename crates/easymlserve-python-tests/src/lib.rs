//! Helpers of the tests that run the real `easymlserve` binary on the Python examples: find the binary
//! and the test virtualenv, start `easymlserve serve --python` on a free loopback port, wait until it is
//! ready, and stop it (with its worker processes) when dropped.
//!
//! The binary is the workspace's `target/<profile>/easymlserve`, which `cargo nextest run --workspace`
//! (and `scripts/test`) build before running any test; when it is missing, it is built here with
//! `cargo build -p easymlserve-cli`. `EASYMLSERVE_BIN` names another one.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The variable `scripts/test` sets to the virtualenv of `scripts/venvs/python-forecasting.txt`.
pub const VENV_VARIABLE: &str = "EASYMLSERVE_TEST_VENV_PYTHON_FORECASTING";

/// The repository's root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python of the forecasting test virtualenv, or `None` (after saying why) when the variable is unset.
pub fn forecasting_python() -> Option<PathBuf> {
    match std::env::var_os(VENV_VARIABLE) {
        Some(venv) if !venv.is_empty() => Some(PathBuf::from(venv).join("bin/python")),
        _ => {
            eprintln!("skipped: {VENV_VARIABLE} is not set; scripts/test creates it");
            None
        }
    }
}

/// Whether this `easymlserve` binary has `serve --python`; says why not when it has not (a checkout from
/// before the Python backend, or one where another part of the CLI is being rebuilt).
pub fn serves_python() -> bool {
    let help = Command::new(easymlserve_bin()).args(["serve", "--help"]).output();
    let yes =
        matches!(&help, Ok(out) if out.status.success() && String::from_utf8_lossy(&out.stdout).contains("--python"));
    if !yes {
        eprintln!("skipped: this easymlserve binary has no `serve --python`");
    }
    yes
}

/// The `easymlserve` binary: `EASYMLSERVE_BIN`, else the one beside this test's own binary in `target/`
/// (built first if missing).
pub fn easymlserve_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("EASYMLSERVE_BIN") {
        return PathBuf::from(bin);
    }
    // A test binary lives in target/<profile>/deps/; the workspace's binaries one folder up.
    let exe = std::env::current_exe().unwrap_or_default();
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let bin = profile_dir.join("easymlserve");
    if !bin.is_file() {
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "-p", "easymlserve-cli", "--bin", "easymlserve"]);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.current_dir(repo_root()).status();
        assert!(
            matches!(status, Ok(s) if s.success()),
            "building the easymlserve binary failed: {status:?}"
        );
    }
    bin
}

/// A free port on 127.0.0.1 (bound, then released for the server to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// A running `easymlserve serve --python ...`, killed with its workers when dropped.
#[derive(Debug)]
pub struct PythonServer {
    child: Child,
    /// Base URL, `http://127.0.0.1:<port>`.
    pub url: String,
    log: PathBuf,
}

impl PythonServer {
    /// Starts `service` (a path relative to the repository) with `python` as the workers' interpreter,
    /// `workers` workers and the extra environment `env`, on a free port.
    pub fn start(service: &str, python: &Path, workers: usize, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let log = std::env::temp_dir().join(format!("easymlserve-python-{}-{port}.log", std::process::id()));
        let out = std::fs::File::create(&log).unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot share {}: {e}", log.display()));
        let mut command = Command::new(easymlserve_bin());
        command
            .current_dir(repo_root())
            .args(["serve", "--python", service, "--python-bin"])
            .arg(python)
            .args([
                "--workers",
                &workers.to_string(),
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
            ])
            .env_remove("EASYMLSERVE_API_KEY")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", easymlserve_bin().display()));
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// What the server has logged so far (its workers' output included).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `/health/ready` answers 200; panics with the log after `timeout` or if the server exits.
    pub async fn wait_ready(&mut self, timeout: Duration) {
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the server exited with {status} before it was ready:\n{}", self.log());
            }
            if let Ok(response) = client.get(format!("{}/health/ready", self.url)).send().await {
                if response.status().is_success() {
                    return;
                }
            }
            assert!(
                started.elapsed() < timeout,
                "not ready after {timeout:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        // SIGKILL: the workers die with it (they ask the kernel for that, and see the socket close).
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A `time,energy` CSV as the forecasting request `{"models", "time", "energy"}`.
pub fn forecast_request(csv: &str, models: &[&str]) -> serde_json::Value {
    let (time, energy): (Vec<&str>, Vec<f64>) = csv
        .lines()
        .skip(1)
        .filter_map(|line| {
            let (t, e) = line.split_once(',')?;
            Some((t.trim(), e.trim().parse::<f64>().ok()?))
        })
        .unzip();
    serde_json::json!({"models": models, "time": time, "energy": energy})
}
