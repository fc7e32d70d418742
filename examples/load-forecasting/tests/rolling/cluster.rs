//! Replicas of the real `load-forecasting` binary on ports of their own, one `redis-server` as their
//! job store, and nginx in front: the smallest honest stand-in for a Deployment behind a Service.

use std::process::Command;
use std::time::{Duration, Instant};

use easymlserve_testkit::{Nginx, Redis, Replica, free_port};

const BIN: &str = env!("CARGO_BIN_EXE_load-forecasting");

/// How long a starting replica may take until it is ready.
const START_WITHIN: Duration = Duration::from_secs(60);
/// How long a stopping replica may take after SIGTERM: the drain delay plus in-flight work.
const STOP_WITHIN: Duration = Duration::from_secs(30);

/// A replica's lease (how soon a dead replica's jobs count as lost) where no replica dies: long enough
/// that a renewal (every third of it) running late on a loaded machine never loses a job.
pub const LEASE: u64 = 5;
/// The lease where a replica is killed, short so its jobs end `job_lost` soon.
pub const SHORT_LEASE: u64 = 2;

/// Three (or `n`) replicas, Redis and nginx; all killed on drop.
pub struct Cluster {
    /// The balancer, field first so it goes before the replicas.
    pub nginx: Nginx,
    /// The replicas, `None` while one is stopped.
    pub replicas: Vec<Option<Replica>>,
    ports: Vec<u16>,
    lease: u64,
    redis: Redis,
}

impl Cluster {
    /// Starts Redis, `n` replicas with a job lease of `lease` seconds and nginx over them.
    pub async fn start(n: usize, lease: u64) -> Self {
        let redis = Redis::start();
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        let mut replicas = Vec::new();
        for &port in &ports {
            replicas.push(Some(start_replica(port, &redis, lease).await));
        }
        let nginx = Nginx::start(&ports).await;
        Self {
            nginx,
            replicas,
            ports,
            lease,
            redis,
        }
    }

    /// Replica `i`, which must be running.
    pub fn replica(&self, i: usize) -> &Replica {
        self.replicas[i].as_ref().unwrap()
    }

    /// The base URLs of the running replicas.
    pub fn urls(&self) -> Vec<String> {
        self.replicas.iter().flatten().map(|r| r.url().to_owned()).collect()
    }

    /// Stops replica `i` with SIGTERM (it must exit 0), starts a fresh one on the same port and waits
    /// until it is ready, as a rolling update replaces a pod. Returns (stop, start) durations.
    pub async fn restart(&mut self, i: usize) -> (Duration, Duration) {
        let started = Instant::now();
        let mut old = self.replicas[i].take().unwrap();
        let exit = old.terminate(STOP_WITHIN).await;
        assert!(exit.success(), "replica {i} exited with {exit}: {:?}", old.log());
        let stopped = started.elapsed();
        drop(old);
        let started = Instant::now();
        self.replicas[i] = Some(start_replica(self.ports[i], &self.redis, self.lease).await);
        (stopped, started.elapsed())
    }

    /// `kill -9` of replica `i`: no drain, its connections and jobs simply end.
    pub fn kill(&mut self, i: usize) {
        let mut victim = self.replicas[i].take().unwrap();
        victim.kill();
    }
}

/// One replica of the tiny models on `port`, with the Redis job store, a lease of `lease` seconds and
/// a one-second drain delay.
async fn start_replica(port: u16, redis: &Redis, lease: u64) -> Replica {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--port", &port.to_string(), "--models"])
        .arg(crate::util::tiny_models())
        .args([
            "--job-store",
            &redis.url(),
            "--jobs-lease-secs",
            &lease.to_string(),
            "--jobs-max",
            "100000",
        ])
        .args(["--shutdown-delay-secs", "1", "--shutdown-timeout-secs", "20"])
        .env_remove("EASYMLSERVE_API_KEYS")
        .env_remove("EASYMLSERVE_PORT")
        .env_remove("PORT");
    Replica::start(command, START_WITHIN).await
}
