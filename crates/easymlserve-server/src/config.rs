//! `ServerConfig`: the one typed configuration of a server, with safe defaults, and the layering
//! code defaults < `EASYMLSERVE_*` environment < command-line flags.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::auth::ApiKeys;
use crate::cors::CorsOrigins;
use crate::engine::Batching;
use crate::jobs::{JobArgs, JobsConfig};
use crate::logging::LogFormat;

/// Environment variable holding comma-separated API keys.
pub const ENV_API_KEYS: &str = "EASYMLSERVE_API_KEYS";
/// Environment variable naming a file of API keys, one per line.
pub const ENV_API_KEYS_FILE: &str = "EASYMLSERVE_API_KEYS_FILE";

/// The port variable KServe and Cloud Run set; below `--port` and `EASYMLSERVE_PORT`, above the code.
pub const ENV_PORT: &str = "PORT";

/// How a server listens, queues and limits work. Build it with `..Default::default()`.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to bind; `127.0.0.1` by default so nothing is exposed by accident.
    pub host: IpAddr,
    /// Port to bind; 8000 by default, 0 picks a free one.
    pub port: u16,
    /// Model worker threads; defaults to the number of CPU cores.
    pub workers: usize,
    /// Requests that may wait for a worker before new ones get 503.
    pub queue_capacity: usize,
    /// Longest a request may wait and run before it gets 504.
    pub timeout: Duration,
    /// Largest accepted request body in bytes; 32 MiB by default.
    pub body_limit: usize,
    /// Accepted API keys; empty means no authentication.
    pub api_keys: ApiKeys,
    /// Longest a client may take to send its request body before it gets 408; 30 s by default.
    pub read_timeout: Duration,
    /// Origins allowed to call the API from a browser page of another site; none by default.
    pub cors_origins: CorsOrigins,
    /// Dynamic batching; off by default (`max_size` 1). Worth turning on only for a service whose
    /// `process_batch` is faster per request than `process`.
    pub batching: Batching,
    /// Jobs: their store, bounds, time limit and lease (docs/jobs.md).
    pub jobs: JobsConfig,
    /// After SIGTERM, how long readiness answers 503 while every other route keeps serving, so load
    /// balancers take the replica out before its listener closes; 5 s by default, zero allowed.
    pub shutdown_delay: Duration,
    /// After the listener closes, how long in-flight requests (and then running jobs) may take to
    /// finish before they are cut; 30 s by default.
    pub shutdown_timeout: Duration,
    /// Whether a mounted GUI computes its examples' outputs once the model is ready, so a click on
    /// one shows its result without a submit; off by default.
    pub cache_examples: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8000,
            workers: std::thread::available_parallelism().map_or(1, usize::from),
            queue_capacity: 64,
            timeout: Duration::from_secs(60),
            body_limit: 32 * 1024 * 1024,
            api_keys: ApiKeys::default(),
            batching: Batching::default(),
            read_timeout: Duration::from_secs(30),
            cors_origins: CorsOrigins::default(),
            jobs: JobsConfig::default(),
            shutdown_delay: Duration::from_secs(5),
            shutdown_timeout: Duration::from_secs(30),
            cache_examples: false,
        }
    }
}

impl ServerConfig {
    /// The socket address to bind.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// Checks the values that have no meaningful zero.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("workers", self.workers),
            ("queue_capacity", self.queue_capacity),
            ("body_limit", self.body_limit),
            ("max_batch_size", self.batching.max_size),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    name: name.to_owned(),
                    message: "must be at least 1".to_owned(),
                });
            }
        }
        if self.read_timeout.is_zero() {
            return Err(ConfigError::Invalid {
                name: "read_timeout".to_owned(),
                message: "must be above zero".to_owned(),
            });
        }
        if self.shutdown_timeout.is_zero() {
            return Err(ConfigError::Invalid {
                name: "shutdown_timeout".to_owned(),
                message: "must be above zero".to_owned(),
            });
        }
        if self.timeout.is_zero() {
            return Err(ConfigError::Invalid {
                name: "timeout".to_owned(),
                message: "must be above zero".to_owned(),
            });
        }
        Ok(())
    }
}

/// Why a configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A setting has a value it cannot take.
    #[error("`{name}` {message}")]
    Invalid {
        /// The setting or environment variable.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// The API keys file could not be read.
    #[error("cannot read the API keys file `{path}`: {source}")]
    KeysFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Command-line flags of a served binary. Each falls back to its `EASYMLSERVE_*` variable, then to the
/// value set in code. API keys themselves are never a flag: they come from `EASYMLSERVE_API_KEYS` or a
/// file, so they do not show up in `ps` or shell history.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to bind [default: 127.0.0.1].
    #[arg(long, env = "EASYMLSERVE_HOST")]
    pub host: Option<IpAddr>,
    /// Port to bind, 0 for any free port; `PORT` applies when neither this nor its variable is set
    /// [default: 8000].
    #[arg(long, env = "EASYMLSERVE_PORT")]
    pub port: Option<u16>,
    /// Model worker threads [default: CPU cores].
    #[arg(long, env = "EASYMLSERVE_WORKERS")]
    pub workers: Option<usize>,
    /// Requests that may wait for a worker before 503 [default: 64].
    #[arg(long, env = "EASYMLSERVE_QUEUE_CAPACITY")]
    pub queue_capacity: Option<usize>,
    /// Seconds a request may take before 504 [default: 60].
    #[arg(long, env = "EASYMLSERVE_TIMEOUT_SECS")]
    pub timeout_secs: Option<f64>,
    /// Largest request body in bytes [default: 33554432 (32 MiB)].
    #[arg(long, env = "EASYMLSERVE_BODY_LIMIT")]
    pub body_limit: Option<usize>,
    /// Seconds a client may take to send its request body before 408 [default: 30].
    #[arg(long, env = "EASYMLSERVE_READ_TIMEOUT_SECS")]
    pub read_timeout_secs: Option<f64>,
    /// Comma-separated origins allowed to call the API from another site's pages [default: none].
    #[arg(long, env = "EASYMLSERVE_CORS_ORIGINS")]
    pub cors_origins: Option<String>,
    /// Most requests per `process_batch` call; 1 turns dynamic batching off [default: 1].
    #[arg(long, env = "EASYMLSERVE_MAX_BATCH_SIZE")]
    pub max_batch_size: Option<usize>,
    /// Milliseconds the first request of a batch waits for others [default: 2].
    #[arg(long, env = "EASYMLSERVE_MAX_BATCH_WAIT_MS")]
    pub max_batch_wait_ms: Option<f64>,
    /// File of API keys, one per line (`#` starts a comment).
    #[arg(long, env = ENV_API_KEYS_FILE)]
    pub api_keys_file: Option<PathBuf>,
    /// Seconds readiness answers 503 after SIGTERM while requests are still served [default: 5].
    #[arg(long, env = "EASYMLSERVE_SHUTDOWN_DELAY_SECS")]
    pub shutdown_delay_secs: Option<f64>,
    /// Seconds in-flight requests and running jobs get once the listener has closed [default: 30].
    #[arg(long, env = "EASYMLSERVE_SHUTDOWN_TIMEOUT_SECS")]
    pub shutdown_timeout_secs: Option<f64>,
    /// Log lines as `text` (readable) or `json` (one object per line, for log collectors)
    /// [default: text].
    #[arg(long, env = "EASYMLSERVE_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,
    /// Compute the GUI's examples' outputs at start (once the model is ready), so clicking one
    /// shows its result at once.
    #[arg(long, env = "EASYMLSERVE_CACHE_EXAMPLES")]
    pub cache_examples: bool,
    /// The job flags.
    #[command(flatten)]
    pub jobs: JobArgs,
}

impl ServeArgs {
    /// Lays these flags (and the environment) over `config`, and adds keys from the environment.
    pub fn apply(self, mut config: ServerConfig) -> Result<ServerConfig, ConfigError> {
        config.host = self.host.unwrap_or(config.host);
        config.port = match (self.port, std::env::var(ENV_PORT)) {
            (Some(port), _) => port,
            (None, Ok(value)) => value.trim().parse().map_err(|_| ConfigError::Invalid {
                name: ENV_PORT.to_owned(),
                message: format!("must be a port number from 0 to 65535, got `{value}`"),
            })?,
            (None, Err(_)) => config.port,
        };
        config.workers = self.workers.unwrap_or(config.workers);
        config.queue_capacity = self.queue_capacity.unwrap_or(config.queue_capacity);
        config.body_limit = self.body_limit.unwrap_or(config.body_limit);
        if let Some(secs) = self.timeout_secs {
            config.timeout = Duration::try_from_secs_f64(secs).map_err(|_| ConfigError::Invalid {
                name: "timeout_secs".to_owned(),
                message: format!("must be a positive number of seconds, got {secs}"),
            })?;
        }
        if let Some(secs) = self.read_timeout_secs {
            config.read_timeout = Duration::try_from_secs_f64(secs).map_err(|_| ConfigError::Invalid {
                name: "read_timeout_secs".to_owned(),
                message: format!("must be a positive number of seconds, got {secs}"),
            })?;
        }
        if let Some(secs) = self.shutdown_delay_secs {
            config.shutdown_delay = Duration::try_from_secs_f64(secs).map_err(|_| ConfigError::Invalid {
                name: "shutdown_delay_secs".to_owned(),
                message: format!("must be a number of seconds of 0 or more, got {secs}"),
            })?;
        }
        if let Some(secs) = self.shutdown_timeout_secs {
            config.shutdown_timeout = Duration::try_from_secs_f64(secs).map_err(|_| ConfigError::Invalid {
                name: "shutdown_timeout_secs".to_owned(),
                message: format!("must be a positive number of seconds, got {secs}"),
            })?;
        }
        if let Some(list) = &self.cors_origins {
            config.cors_origins = CorsOrigins::parse_list(list);
        }
        config.batching.max_size = self.max_batch_size.unwrap_or(config.batching.max_size);
        if let Some(ms) = self.max_batch_wait_ms {
            config.batching.max_wait = Duration::try_from_secs_f64(ms / 1000.0).map_err(|_| ConfigError::Invalid {
                name: "max_batch_wait_ms".to_owned(),
                message: format!("must be a number of milliseconds of 0 or more, got {ms}"),
            })?;
        }
        config.jobs = self.jobs.apply(config.jobs)?;
        config.cache_examples |= self.cache_examples;
        if let Ok(list) = std::env::var(ENV_API_KEYS) {
            config.api_keys.extend(ApiKeys::parse_list(&list));
        }
        if let Some(path) = &self.api_keys_file {
            config.api_keys.extend(read_keys_file(path)?);
        }
        config.validate()?;
        Ok(config)
    }
}

fn read_keys_file(path: &Path) -> Result<ApiKeys, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::KeysFile {
        path: path.to_owned(),
        source,
    })?;
    Ok(ApiKeys::parse_lines(&text))
}
