//! A real `redis-server` for the tests of the Redis job store: on a port of its own, no persistence,
//! killed when the guard drops (also when the test panics) or when the thread that started it ends.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::free_port;

/// A `redis-server` on 127.0.0.1, killed on drop.
pub struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    /// Starts one on a free port.
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    /// Starts one on `port` (again on the same port after [`Redis::stop`], to bring it back).
    pub fn start_on(port: u16) -> Self {
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"]);
        let child = crate::killed_with_test(&command)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is not installed: run scripts/test, which installs it (Debian package redis-server)");
        let mut redis = Self { child, port };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = redis.child.try_wait() {
                panic!(
                    "redis-server ended ({status}): is it installed? scripts/test installs it (Debian package redis-server)"
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        redis
    }

    /// `redis://127.0.0.1:<port>`, for `--job-store`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The string at `key` (`GET` through `redis-cli`, of the same Debian package), `None` when unset:
    /// for a test that checks what a replica wrote.
    pub fn get(&self, key: &str) -> Option<String> {
        let output = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "--raw", "GET", key])
            .output()
            .expect("redis-cli is not installed: run scripts/test, which installs it (Debian package redis-tools)");
        assert!(output.status.success(), "redis-cli GET {key}: {output:?}");
        let text = String::from_utf8(output.stdout).unwrap();
        let text = text.strip_suffix('\n').unwrap_or(&text);
        (!text.is_empty()).then(|| text.to_owned())
    }

    /// Kills it now (the test wants Redis gone); dropping the guard later does nothing more.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}
