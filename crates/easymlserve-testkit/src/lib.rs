//! Test helpers shared by the easymlserve crates and examples, so every GUI test drives the browser and
//! starts servers the same way: [`Browser`] (headless Chromium), [`serve`] (a server on 127.0.0.1:0)
//! and [`desktop_light_and_dark`] (pictures of a desktop window, drawn by [`raster`] with no GPU).
//! Tests of several processes get guards that kill what they started on drop, also on panic:
//! [`Redis`] (a real `redis-server`), [`Replica`] (a server process) and [`Nginx`] (a load balancer
//! in front of replicas); their processes also get SIGKILL when the test's thread ends, so a test
//! killed by a timeout leaves none behind.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)] // test helpers fail loudly, with a message

mod browser;
mod desktop_shots;
mod nginx;
pub mod raster;
mod redis;
mod replica;
mod screenshots;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use easymlserve_server::Server;

pub use browser::Browser;
pub use desktop_shots::desktop_light_and_dark;
pub use nginx::Nginx;
pub use redis::Redis;
pub use replica::Replica;
pub use screenshots::screenshot_dir;

/// A port nobody listens on at the moment (bound and released; good enough on loopback).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `command` run through util-linux's `setpriv --pdeathsig KILL`, which then becomes the program (same
/// pid): the kernel sends it SIGKILL when the thread that started it ends, so a test killed by nextest's
/// timeout, whose guards never drop, leaves no server behind. (`setpriv` rather than `prctl` in a
/// `pre_exec` hook: the workspace forbids `unsafe`.) The thread is the one that spawns, so a guard must
/// be started on a thread that lives as long as the test (the test's own thread in `#[tokio::test]`).
/// Keeps the program, arguments, environment changes and working directory; stdio is set by the caller.
pub(crate) fn killed_with_test(command: &Command) -> Command {
    let mut wrapped = Command::new("setpriv");
    wrapped
        .args(["--pdeathsig", "KILL", "--"])
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(name, value),
            None => wrapped.env_remove(name),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
}

/// The Python of the test virtualenv `$EASYMLSERVE_TEST_VENV_<name>` (e.g. `SDK_PYDANTIC2`), which
/// `scripts/test` builds and names. Without it the test is skipped: this returns `None` after saying so
/// on stderr, except under nextest's `ci` profile (`NEXTEST_PROFILE=ci`), where a missing venv is a
/// broken CI setup and this panics, so CI never passes by skipping.
pub fn venv_python(name: &str) -> Option<PathBuf> {
    let var = format!("EASYMLSERVE_TEST_VENV_{name}");
    match std::env::var_os(&var) {
        Some(venv) => Some(PathBuf::from(venv).join("bin/python")),
        None if std::env::var("NEXTEST_PROFILE").is_ok_and(|p| p == "ci") => {
            panic!("{var} is not set under the ci profile, where no test may skip: scripts/test creates it")
        }
        None => {
            eprintln!("skipped: {var} is not set; scripts/test creates it");
            None
        }
    }
}

/// The status of `GET path` at `addr` (`host:port`), or `None` when nothing answers within two
/// seconds. For waiting until a process is up; tests talk to servers with a real client.
pub async fn http_status(addr: &str, path: &str) -> Option<u16> {
    let (addr, path) = (addr.to_owned(), path.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&addr).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
        let mut head = [0_u8; 12];
        stream.read_exact(&mut head).ok()?;
        std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
    })
    .await
    .ok()
    .flatten()
}

/// Serves `server` on 127.0.0.1:0 in the current tokio runtime until the process ends, waits until it
/// is ready, and returns its base URL.
pub async fn serve<S: 'static>(server: Server<S>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(server.serve_with_shutdown(listener, std::future::pending()));
    let client = easymlserve_client::Client::new(url.clone()).unwrap();
    let mut waited = Duration::ZERO;
    while client.ready().await.is_err() {
        assert!(
            waited < Duration::from_secs(120),
            "the server at {url} did not become ready"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += Duration::from_millis(10);
    }
    url
}

/// Like [`serve`], for tests without an async runtime (GUI tests): starts a runtime of its own, which
/// must be kept alive as long as the server is needed.
pub fn serve_blocking<S: 'static>(server: Server<S>) -> (String, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let url = runtime.block_on(serve(server));
    (url, runtime)
}
