//! What every Redis store test shares: a real `redis-server` of its own on a free port (killed when the
//! test ends), and the records and events the tests write.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use easymlserve_core::{JobEvent, JobEventKind, JobStatus, ProgressReport};
use easymlserve_server::jobs::{JobRecord, JobStore, Limits, RedisStore};

/// Kills the server when the test ends, passed or failed, so no process outlives it.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A `redis-server` of this test.
pub struct Redis {
    pub port: u16,
    password: Option<&'static str>,
    process: KillOnDrop,
}

impl Redis {
    /// Starts one on a free port.
    pub fn start() -> Self {
        Self::start_on(free_port(), None)
    }

    /// Starts one on `port`, asking for `password` when given; returns once it accepts connections.
    pub fn start_on(port: u16, password: Option<&'static str>) -> Self {
        let mut command = Command::new("redis-server");
        command
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--loglevel", "warning"])
            .current_dir(std::env::temp_dir())
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if let Some(password) = password {
            command.args(["--requirepass", password]);
        }
        let process = match command.spawn() {
            Ok(child) => KillOnDrop(child),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "`redis-server` is not installed, and the Redis job store tests need it: run scripts/test, \
                 which installs the Debian package `redis-server`"
            ),
            Err(e) => panic!("cannot start `redis-server`: {e}"),
        };
        let mut redis = Self {
            port,
            password,
            process,
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = redis.process.0.try_wait() {
                panic!("`redis-server` on port {port} exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "`redis-server` did not listen on port {port} within 5 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        redis
    }

    pub fn url(&self) -> String {
        match self.password {
            Some(password) => format!("redis://:{password}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    pub async fn store(&self, limits: Limits) -> RedisStore {
        RedisStore::connect(&self.url(), limits).await.unwrap()
    }
}

/// The request body the tests' jobs are created with.
pub const REQUEST: &str = r#"{"text":"hello","n":3}"#;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn queued(id: &str) -> JobRecord {
    JobRecord::queued(
        id.to_owned(),
        None,
        "digest-of-the-body".to_owned(),
        "replica-a".to_owned(),
        "run-a".to_owned(),
    )
}

pub fn progress(id: u64) -> JobEvent {
    JobEvent {
        id,
        kind: JobEventKind::Progress(ProgressReport::new(Some(0.1 * id as f64), format!("step {id}"), 1.0)),
    }
}

/// Writes `record` as succeeded with its result event (numbered one past its last).
pub async fn finish(store: &RedisStore, mut record: JobRecord) -> JobRecord {
    record.status = JobStatus::Succeeded;
    record.result = Some(serde_json::json!({"echo": "done"}));
    record.finished_ms = Some(record.created_ms + 5);
    record.last_event += 1;
    let event = JobEvent {
        id: record.last_event,
        kind: JobEventKind::Result(serde_json::json!({"echo": "done"})),
    };
    assert!(store.update(record.clone(), Some(event)).await.unwrap());
    record
}
