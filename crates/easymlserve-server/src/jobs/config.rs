//! How jobs are kept: the store (memory or Redis), its bounds, how long a job may run, the lease a
//! replica holds on the jobs it runs, and the flags that set them on `serve`.

use std::time::Duration;

use super::store::Limits;
use crate::config::ConfigError;

/// Where jobs live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StoreChoice {
    /// In this process (one replica).
    #[default]
    Memory,
    /// In Redis at this URL (`redis://host:port[/db]`), shared by every replica.
    Redis(String),
}

/// The job settings of a server.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// Where jobs live.
    pub store: StoreChoice,
    /// Bounds on what the store keeps.
    pub limits: Limits,
    /// Longest a job may wait and run.
    pub timeout: Duration,
    /// How long a replica's claim on a job it runs lasts without renewal; renewed every third of it.
    pub lease: Duration,
    /// Longest silence on an event stream before a keep-alive comment.
    pub keep_alive: Duration,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            store: StoreChoice::Memory,
            limits: Limits::default(),
            timeout: Duration::from_secs(3600),
            lease: Duration::from_secs(10),
            keep_alive: Duration::from_secs(15),
        }
    }
}

/// The job flags of `serve` (each also an `EASYMLSERVE_*` variable).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct JobArgs {
    /// Where jobs live: `memory`, or `redis://host:port` to share them between replicas [default: memory].
    #[arg(long, env = "EASYMLSERVE_JOB_STORE")]
    pub job_store: Option<String>,
    /// Jobs kept at once, running or finished [default: 1000].
    #[arg(long, env = "EASYMLSERVE_JOBS_MAX")]
    pub jobs_max: Option<usize>,
    /// Bytes of job state, results and events kept at once [default: 268435456].
    #[arg(long, env = "EASYMLSERVE_JOBS_MAX_BYTES")]
    pub jobs_max_bytes: Option<usize>,
    /// Seconds a finished job is kept [default: 3600].
    #[arg(long, env = "EASYMLSERVE_JOBS_TTL_SECS")]
    pub jobs_ttl_secs: Option<f64>,
    /// Events kept per job [default: 256].
    #[arg(long, env = "EASYMLSERVE_JOBS_MAX_EVENTS")]
    pub jobs_max_events: Option<usize>,
    /// Seconds a job may take [default: 3600].
    #[arg(long, env = "EASYMLSERVE_JOBS_TIMEOUT_SECS")]
    pub jobs_timeout_secs: Option<f64>,
    /// Seconds a replica's lease on a job lasts without renewal [default: 10].
    #[arg(long, env = "EASYMLSERVE_JOBS_LEASE_SECS")]
    pub jobs_lease_secs: Option<f64>,
    /// Seconds of silence on an event stream before a keep-alive comment [default: 15].
    #[arg(long, env = "EASYMLSERVE_SSE_KEEP_ALIVE_SECS")]
    pub sse_keep_alive_secs: Option<f64>,
}

fn seconds(name: &str, secs: Option<f64>, default: Duration) -> Result<Duration, ConfigError> {
    let Some(secs) = secs else { return Ok(default) };
    match Duration::try_from_secs_f64(secs) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(ConfigError::Invalid {
            name: name.to_owned(),
            message: format!("must be a positive number of seconds, got {secs}"),
        }),
    }
}

fn positive(name: &str, value: Option<usize>, default: usize) -> Result<usize, ConfigError> {
    match value {
        None => Ok(default),
        Some(0) => Err(ConfigError::Invalid {
            name: name.to_owned(),
            message: "must be at least 1, got 0".to_owned(),
        }),
        Some(n) => Ok(n),
    }
}

impl JobArgs {
    /// Lays these flags over `config`.
    pub fn apply(self, config: JobsConfig) -> Result<JobsConfig, ConfigError> {
        let store = match self.job_store.as_deref().map(str::trim) {
            None => config.store,
            Some("" | "memory") => StoreChoice::Memory,
            Some(url) if url.starts_with("redis://") => StoreChoice::Redis(url.to_owned()),
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "job_store".to_owned(),
                    message: format!("must be `memory` or a `redis://host:port` URL, got `{other}`"),
                });
            }
        };
        let limits = Limits {
            max_jobs: positive("jobs_max", self.jobs_max, config.limits.max_jobs)?,
            max_bytes: positive("jobs_max_bytes", self.jobs_max_bytes, config.limits.max_bytes)?,
            ttl: seconds("jobs_ttl_secs", self.jobs_ttl_secs, config.limits.ttl)?,
            max_events: positive("jobs_max_events", self.jobs_max_events, config.limits.max_events)?,
        };
        Ok(JobsConfig {
            store,
            limits,
            timeout: seconds("jobs_timeout_secs", self.jobs_timeout_secs, config.timeout)?,
            lease: seconds("jobs_lease_secs", self.jobs_lease_secs, config.lease)?,
            keep_alive: seconds("sse_keep_alive_secs", self.sse_keep_alive_secs, config.keep_alive)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_and_bad_values_name_the_flag() {
        let args = JobArgs {
            job_store: Some("redis://127.0.0.1:6379".into()),
            jobs_max: Some(5),
            ..JobArgs::default()
        };
        let config = args.apply(JobsConfig::default()).unwrap();
        assert_eq!(config.store, StoreChoice::Redis("redis://127.0.0.1:6379".into()));
        assert_eq!(config.limits.max_jobs, 5);
        let bad = JobArgs {
            job_store: Some("postgres://x".into()),
            ..JobArgs::default()
        };
        assert!(
            bad.apply(JobsConfig::default())
                .unwrap_err()
                .to_string()
                .contains("job_store")
        );
        let zero = JobArgs {
            jobs_ttl_secs: Some(0.0),
            ..JobArgs::default()
        };
        assert!(
            zero.apply(JobsConfig::default())
                .unwrap_err()
                .to_string()
                .contains("jobs_ttl_secs")
        );
    }
}
