//! A real nginx in front of replicas, as a cluster's load balancer would be: `least_conn` over the
//! replica ports, the failed attempt retried on the next replica on connection errors, timeouts and
//! 503 (also for POST: `non_idempotent`), no response buffering (Server-Sent Events pass at once) and
//! HTTP/1.1 keep-alive to the replicas. Its config, logs and temp files live in a folder of their own;
//! it runs in the foreground as one process (no master), so killing the guard's child ends it all.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::{free_port, http_status};

/// Debian's nginx binary.
const NGINX: &str = "/usr/sbin/nginx";

/// A running nginx, killed on drop.
pub struct Nginx {
    child: Child,
    port: u16,
    dir: PathBuf,
}

/// The config: `upstreams` are the replica ports, `port` nginx's own.
fn config(dir: &Path, port: u16, upstreams: &[u16]) -> String {
    let dir = dir.display();
    let servers: String = upstreams
        .iter()
        .map(|p| format!("        server 127.0.0.1:{p} max_fails=0;\n"))
        .collect();
    let tries = upstreams.len();
    format!(
        "worker_processes 1;
master_process off;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    log_format tries '$request_method $uri $status end=$msec took=$request_time upstream=$upstream_addr statuses=$upstream_status';
    access_log {dir}/access.log tries;
    client_max_body_size 64m;
    upstream replicas {{
        least_conn;
{servers}        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location = /__nginx {{ return 204; }}
        location / {{
            proxy_pass http://replicas;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host $http_host;
            proxy_next_upstream error timeout http_503 non_idempotent;
            proxy_next_upstream_tries {tries};
            proxy_connect_timeout 1s;
            proxy_read_timeout 120s;
            proxy_buffering off;
        }}
    }}
}}
"
    )
}

impl Nginx {
    /// Starts nginx on a free port in front of the replicas listening on `upstreams`, and waits until
    /// it answers.
    pub async fn start(upstreams: &[u16]) -> Self {
        static STARTED: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "easymlserve-nginx-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config(&dir, port, upstreams)).unwrap();
        let mut command = Command::new(NGINX);
        command
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"));
        let child = crate::killed_with_test(&command)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{NGINX} did not start ({e}): run scripts/test, which installs it (Debian package nginx)")
            });
        let mut nginx = Self { child, port, dir };
        let started = Instant::now();
        while http_status(&format!("127.0.0.1:{port}"), "/__nginx").await != Some(204) {
            if let Ok(Some(status)) = nginx.child.try_wait() {
                panic!("nginx ended ({status}): {}", nginx.error_log());
            }
            assert!(started.elapsed() < Duration::from_secs(10), "nginx did not answer");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        nginx
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// One line per request, written when it ended: method, path, status, when it ended (`end=`, Unix
    /// seconds with milliseconds), how long it took (`took=`, seconds), the replicas tried
    /// (`upstream=`, `host:port` separated by `, `) and their statuses.
    pub fn access_log(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.join("access.log")).unwrap_or_default();
        text.lines().map(str::to_owned).collect()
    }

    /// How many attempts were retried on another replica (a request tried on two replicas counts one).
    pub fn retries(&self) -> usize {
        self.access_log()
            .iter()
            .filter_map(|line| line.split_once("statuses=").map(|(_, s)| s.matches(',').count()))
            .sum()
    }

    /// How many requests nginx had sent to the replica at `upstream` (`host:port`) and not yet seen
    /// end when it died: those that started by `to` and ended at or after `from`, with the replica
    /// among those tried. `from` and `to` bracket the kill; the count is an upper bound (a request
    /// about to be sent to it counts too), so failures caused by the kill can be bounded by it.
    pub fn in_flight_on(&self, upstream: &str, from: SystemTime, to: SystemTime) -> usize {
        let seconds = |t: SystemTime| t.duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
        // The log's times have millisecond resolution.
        let (from, to) = (seconds(from) - 0.001, seconds(to) + 0.001);
        let field = |line: &str, name: &str| -> Option<f64> {
            line.split_whitespace().find_map(|w| w.strip_prefix(name))?.parse().ok()
        };
        self.access_log()
            .iter()
            .filter(|line| {
                let tried = line.split_once("upstream=").map_or("", |(_, rest)| rest);
                let tried = tried.split(" statuses=").next().unwrap_or("");
                let (Some(end), Some(took)) = (field(line, "end="), field(line, "took=")) else {
                    return false;
                };
                tried.split(", ").any(|addr| addr == upstream) && end >= from && end - took <= to
            })
            .count()
    }

    /// Its error log.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
