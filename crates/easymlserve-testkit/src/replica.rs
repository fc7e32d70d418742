//! A server process the test started, e.g. one replica behind a balancer: its output collected, its
//! URL read from the `listening on` line, ready once `/health/ready` answers 200, and killed when the
//! guard drops (also when the test panics). [`Replica::terminate`] sends SIGTERM and waits for the exit,
//! as an orchestrator stops a pod; [`Replica::kill`] is `kill -9`.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::http_status;

/// A started server process, killed on drop.
pub struct Replica {
    child: Child,
    url: String,
    log: Arc<Mutex<Vec<String>>>,
    /// The threads reading its stdout and stderr; they end when the streams close.
    readers: Vec<JoinHandle<()>>,
}

fn collect(output: impl Read + Send + 'static, log: &Arc<Mutex<Vec<String>>>) -> JoinHandle<()> {
    let log = Arc::clone(log);
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines() {
            let Ok(line) = line else { break };
            log.lock().unwrap_or_else(PoisonError::into_inner).push(line);
        }
    })
}

/// The URL of a `listening on http://…` line, in text or JSON logs.
fn listening_url(line: &str) -> Option<String> {
    let at = line.find("listening on http://")? + "listening on ".len();
    let url: String = line[at..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '"')
        .collect();
    Some(url)
}

impl Replica {
    /// Spawns `command` (its output piped and collected, `NO_COLOR` and an `info` log level unless the
    /// command sets them, killed with the calling thread) and waits, up to `within`, until it printed where it listens and
    /// `/health/ready` answers 200.
    pub async fn start(mut command: Command, within: Duration) -> Self {
        let set: Vec<_> = command.get_envs().map(|(name, _)| name.to_owned()).collect();
        for (name, value) in [("NO_COLOR", "1"), ("EASYMLSERVE_LOG", "info")] {
            if !set.iter().any(|s| s == name) {
                command.env(name, value);
            }
        }
        let mut child = crate::killed_with_test(&command)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {command:?}: {e}"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            collect(child.stdout.take().unwrap(), &log),
            collect(child.stderr.take().unwrap(), &log),
        ];
        let started = Instant::now();
        let mut replica = Self {
            child,
            url: String::new(),
            log,
            readers,
        };
        replica.url = loop {
            let found = replica.log().iter().find_map(|line| listening_url(line));
            if let Some(url) = found {
                break url;
            }
            replica.assert_alive("before it listened");
            assert!(
                started.elapsed() < within,
                "no start within {within:?}: {:?}",
                replica.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        while http_status(replica.addr(), "/health/ready").await != Some(200) {
            replica.assert_alive("before it was ready");
            assert!(
                started.elapsed() < within,
                "not ready within {within:?}: {:?}",
                replica.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        replica
    }

    fn assert_alive(&mut self, when: &str) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("the server ended ({status}) {when}: {:?}", self.log());
        }
    }

    /// Its base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `host:port`.
    pub fn addr(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.addr().rsplit(':').next().and_then(|p| p.parse().ok()).unwrap()
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What it printed so far, stdout and stderr interleaved by line.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Sends SIGTERM and waits, up to `within`, for the process to end; returns how it ended. Its last
    /// lines are in [`Replica::log`] by then (unless a child of it still holds its output open).
    pub async fn terminate(&mut self, within: Duration) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM failed");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                self.wait_readers().await;
                return status;
            }
            assert!(
                started.elapsed() < within,
                "no exit within {within:?} of SIGTERM: {:?}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits, up to two seconds, until its output has been read to the end.
    async fn wait_readers(&self) {
        let started = Instant::now();
        while !self.readers.iter().all(JoinHandle::is_finished) && started.elapsed() < Duration::from_secs(2) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// `kill -9`: ends the process at once, with no drain.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}
