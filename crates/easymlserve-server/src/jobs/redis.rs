//! `RedisStore`: the job store in Redis (`--job-store redis://host:port`), so that every replica behind a
//! load balancer answers for every job. Each store method is one Lua script or one command, so it is atomic.
//!
//! Keys, for a job `{id}` (prefix `easymlserve:`):
//!
//! | Key | Type | Holds |
//! |---|---|---|
//! | `easymlserve:job:{id}` | string | the [`JobRecord`] as JSON |
//! | `easymlserve:job:{id}:request` | string | the request body it was submitted with (JSON) |
//! | `easymlserve:job:{id}:events` | list | its kept events as JSON, oldest first |
//! | `easymlserve:job:{id}:lease` | string, `PX` expiry | the replica that runs it |
//! | `easymlserve:job:{id}:cancel` | string | set once a cancel is asked |
//! | `easymlserve:jobs` | sorted set | every kept job; score `+inf` while it runs, its expiry time (ms) once over |
//! | `easymlserve:sizes` | hash | the bytes (state, request and events) each kept job takes |
//! | `easymlserve:bytes` | string | the sum of those |
//!
//! A stopping replica writes a job it could not finish back as queued and drops its lease
//! (`handback.lua`); another replica takes it with `claim.lua`, which only one of them can win
//! (see `handback.rs`).
//!
//! A finished job's keys get its time-to-live (`PEXPIRE`), so Redis drops them by itself; `create` first
//! drops the index entries and byte counts of jobs past their expiry, so they stop counting.
//!
//! Redis going away is a [`StoreError::Unavailable`] within [`COMMAND_TIMEOUT`], never a panic or a hang;
//! the connection manager reconnects in the background, so the store works again once Redis is back.
//! It needs Redis 5 or later (its scripts read Redis's clock, then write) and no Redis module.
//!
//! The keys and scripts are in `redis/scripts.rs`, the password-free URL in `redis/url.rs`.

use std::future::Future;
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Cmd, FromRedisValue, RedisError, RedisResult, ScriptInvocation};
use easymlserve_core::{BoxFuture, JobEvent};

use super::record::JobRecord;
use super::store::{Created, JobStore, Limits, StoreError};

mod scripts;
mod url;

use scripts::{INDEX, Keys, PREFIX, Scripts, counted};
use url::redacted;

/// Longest wait for one store method, reconnecting included; past it the method is `Unavailable`.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest wait for a TCP connection, and for one answer on it.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(1);
/// How often [`JobStore::wait`] looks for a new event.
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Jobs, their events and leases in one Redis server, shared by every replica that uses it.
pub struct RedisStore {
    connection: ConnectionManager,
    /// The URL without its password, for the log and error messages.
    url: String,
    limits: Limits,
    scripts: Scripts,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.url)
            .field("limits", &self.limits)
            .finish()
    }
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://[user[:password]@]host[:port][/db]`). Fails with
    /// [`StoreError::Unavailable`] when the URL is not one this build can use (`rediss://` needs TLS,
    /// which it has not) or Redis does not answer within [`COMMAND_TIMEOUT`].
    pub async fn connect(url: &str, limits: Limits) -> Result<Self, StoreError> {
        if ::redis::parse_redis_url(url).is_none() {
            return Err(StoreError::Unavailable(
                "`--job-store` must be a Redis URL, `redis://[user[:password]@]host[:port][/db]`; the one given is not"
                    .to_owned(),
            ));
        }
        let described = redacted(url);
        let client = ::redis::Client::open(url)
            .map_err(|e| StoreError::Unavailable(format!("`--job-store` {described} cannot be used: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(SOCKET_TIMEOUT))
            .set_response_timeout(Some(SOCKET_TIMEOUT))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(100))
            .set_max_delay(Duration::from_millis(500));
        let connection =
            match tokio::time::timeout(COMMAND_TIMEOUT, client.get_connection_manager_with_config(config)).await {
                Ok(Ok(connection)) => connection,
                Ok(Err(e)) => {
                    return Err(StoreError::Unavailable(format!(
                        "cannot connect to Redis at {described}: {e}"
                    )));
                }
                Err(_) => return Err(timed_out(&described, "connect")),
            };
        Ok(Self {
            connection,
            url: described,
            limits,
            scripts: Scripts::load(),
        })
    }

    /// Runs `op` on the connection within [`COMMAND_TIMEOUT`]. A refused connection means nothing was sent,
    /// so `op` runs once more: the manager has begun a new connection, which works if Redis is back.
    async fn call<T, F, Fut>(&self, what: &str, mut op: F) -> Result<T, StoreError>
    where
        F: FnMut(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let attempts = async {
            match op(self.connection.clone()).await {
                Err(e) if e.is_connection_refusal() => op(self.connection.clone()).await,
                result => result,
            }
        };
        match tokio::time::timeout(COMMAND_TIMEOUT, attempts).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(self.failed(what, &e)),
            Err(_) => Err(timed_out(&self.url, what)),
        }
    }

    /// Sends one command.
    async fn command<T: FromRedisValue>(&self, what: &str, command: Cmd) -> Result<T, StoreError> {
        let command = &command;
        self.call(what, |mut c| async move { command.query_async(&mut c).await })
            .await
    }

    /// Runs one script call.
    async fn invoke<T: FromRedisValue>(&self, what: &str, invocation: &ScriptInvocation<'_>) -> Result<T, StoreError> {
        self.call(what, |mut c| async move { invocation.invoke_async(&mut c).await })
            .await
    }

    fn failed(&self, what: &str, error: &RedisError) -> StoreError {
        StoreError::Unavailable(format!("Redis at {} failed `{what}`: {error}", self.url))
    }

    fn corrupt(&self, what: &str, error: &serde_json::Error) -> StoreError {
        StoreError::Unavailable(format!(
            "Redis at {} holds JSON that does not parse (`{what}`): {error}",
            self.url
        ))
    }

    fn ttl_ms(&self) -> u64 {
        u64::try_from(self.limits.ttl.as_millis()).unwrap_or(u64::MAX)
    }

    async fn record(&self, id: &str) -> Result<Option<JobRecord>, StoreError> {
        let json: Option<String> = self
            .command("get", ::redis::cmd("GET").arg(Keys::of(id).state).clone())
            .await?;
        json.map(|json| serde_json::from_str(&json).map_err(|e| self.corrupt("get", &e)))
            .transpose()
    }
}

fn timed_out(url: &str, what: &str) -> StoreError {
    StoreError::Unavailable(format!(
        "Redis at {url} did not answer `{what}` within {} s",
        COMMAND_TIMEOUT.as_secs()
    ))
}

fn terminal_flag(record: &JobRecord) -> &'static str {
    if record.status.is_terminal() { "1" } else { "0" }
}

impl JobStore for RedisStore {
    fn describe(&self) -> String {
        self.url.clone()
    }

    fn create(&self, record: JobRecord, request: String) -> BoxFuture<'_, Result<Created, StoreError>> {
        Box::pin(async move {
            let json = serde_json::to_string(&record).map_err(|e| self.corrupt("create", &e))?;
            let keys = Keys::of(&record.id);
            let mut invocation = counted(&self.scripts.create, &[&keys.state]);
            invocation.key(&keys.request);
            invocation
                .arg(&record.id)
                .arg(&json)
                .arg(self.limits.max_jobs)
                .arg(self.limits.max_bytes);
            invocation
                .arg(format!("{PREFIX}job:"))
                .arg(terminal_flag(&record))
                .arg(self.ttl_ms())
                .arg(&request);
            let answer: Vec<String> = self.invoke("create", &invocation).await?;
            let Limits {
                max_jobs,
                max_bytes,
                ttl,
                ..
            } = self.limits;
            match answer.as_slice() {
                [new] if new == "new" => Ok(Created::New),
                [exists, json] if exists == "exists" => serde_json::from_str(json)
                    .map(Created::Exists)
                    .map_err(|e| self.corrupt("create", &e)),
                [full, count] if full == "full_jobs" => Err(StoreError::Full(format!(
                    "{count} jobs are kept (`--jobs-max` {max_jobs}); finished ones go after their time-to-live \
                     ({} s) or a DELETE",
                    ttl.as_secs()
                ))),
                [full, bytes] if full == "full_bytes" => Err(StoreError::Full(format!(
                    "the jobs kept take {bytes} of {max_bytes} bytes (`--jobs-max-bytes`); this one needs {} more",
                    json.len() + request.len()
                ))),
                other => Err(StoreError::Unavailable(format!(
                    "Redis at {} answered `create` with {other:?}",
                    self.url
                ))),
            }
        })
    }

    fn update(&self, record: JobRecord, event: Option<JobEvent>) -> BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move {
            let json = serde_json::to_string(&record).map_err(|e| self.corrupt("update", &e))?;
            let event = match &event {
                Some(event) => serde_json::to_string(event).map_err(|e| self.corrupt("update", &e))?,
                None => String::new(),
            };
            let keys = Keys::of(&record.id);
            let mut invocation = counted(&self.scripts.update, &[&keys.state, &keys.events, &keys.cancel]);
            invocation.key(&keys.request);
            invocation
                .arg(&record.id)
                .arg(&json)
                .arg(terminal_flag(&record))
                .arg(&event);
            // The terminal event is the newest, so keeping at least one keeps it.
            invocation
                .arg(self.limits.max_events.max(1))
                .arg(self.ttl_ms())
                .arg(&record.run);
            let wrote: i64 = self.invoke("update", &invocation).await?;
            Ok(wrote == 1)
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>> {
        Box::pin(self.record(id))
    }

    fn request<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move {
            self.command("request", ::redis::cmd("GET").arg(Keys::of(id).request).clone())
                .await
        })
    }

    fn events<'a>(&'a self, id: &'a str, after: u64) -> BoxFuture<'a, Result<Vec<JobEvent>, StoreError>> {
        Box::pin(async move {
            let lrange = ::redis::cmd("LRANGE").arg(Keys::of(id).events).arg(0).arg(-1).clone();
            let kept: Vec<String> = self.command("events", lrange).await?;
            let mut events = Vec::new();
            for json in kept {
                let event: JobEvent = serde_json::from_str(&json).map_err(|e| self.corrupt("events", &e))?;
                if event.id > after {
                    events.push(event);
                }
            }
            Ok(events)
        })
    }

    fn wait<'a>(&'a self, id: &'a str, after: u64, timeout: Duration) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let poll = async {
                loop {
                    if let Ok(Some(record)) = self.record(id).await {
                        if record.last_event > after {
                            return;
                        }
                    }
                    tokio::time::sleep(POLL_INTERVAL).await;
                }
            };
            // Redis away, or nothing new: either way the caller looks again after `timeout`.
            let _ = tokio::time::timeout(timeout, poll).await;
        })
    }

    fn delete<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let keys = Keys::of(id);
            let mut invocation = counted(
                &self.scripts.delete,
                &[&keys.state, &keys.events, &keys.lease, &keys.cancel],
            );
            invocation.key(&keys.request).arg(id);
            let existed: i64 = self.invoke("delete", &invocation).await?;
            Ok(existed == 1)
        })
    }

    fn request_cancel<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let keys = Keys::of(id);
            let mut invocation = self.scripts.cancel.prepare_invoke();
            invocation.key(&keys.state).key(&keys.cancel);
            let _: i64 = self.invoke("request_cancel", &invocation).await?;
            Ok(())
        })
    }

    fn renew<'a>(&'a self, id: &'a str, lease: Duration) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let keys = Keys::of(id);
            // `PX 0` is an error in Redis; a lease is at least a millisecond.
            let lease_ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX).max(1);
            let mut invocation = self.scripts.renew.prepare_invoke();
            invocation
                .key(&keys.state)
                .key(&keys.lease)
                .key(&keys.cancel)
                .key(INDEX);
            invocation.arg(id).arg(lease_ms);
            let cancel: i64 = self.invoke("renew", &invocation).await?;
            Ok(cancel == 1)
        })
    }

    fn leased<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let exists: i64 = self
                .command("leased", ::redis::cmd("EXISTS").arg(Keys::of(id).lease).clone())
                .await?;
            Ok(exists == 1)
        })
    }

    fn shared(&self) -> bool {
        true
    }

    fn hand_back<'a>(
        &'a self,
        record: JobRecord,
        event: JobEvent,
        expected: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let json = serde_json::to_string(&record).map_err(|e| self.corrupt("hand_back", &e))?;
            let event = serde_json::to_string(&event).map_err(|e| self.corrupt("hand_back", &e))?;
            let keys = Keys::of(&record.id);
            let mut invocation = counted(&self.scripts.hand_back, &[&keys.state, &keys.events, &keys.lease]);
            invocation
                .arg(&record.id)
                .arg(&json)
                .arg(&event)
                .arg(self.limits.max_events.max(1))
                .arg(expected);
            let wrote: i64 = self.invoke("hand_back", &invocation).await?;
            Ok(wrote == 1)
        })
    }

    fn claim<'a>(
        &'a self,
        record: JobRecord,
        expected: &'a str,
        lease: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let json = serde_json::to_string(&record).map_err(|e| self.corrupt("claim", &e))?;
            let keys = Keys::of(&record.id);
            let lease_ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX).max(1);
            let mut invocation = counted(&self.scripts.claim, &[&keys.state, &keys.lease]);
            invocation
                .arg(&record.id)
                .arg(&json)
                .arg(expected)
                .arg(&record.replica)
                .arg(lease_ms);
            let claimed: i64 = self.invoke("claim", &invocation).await?;
            Ok(claimed == 1)
        })
    }

    fn unfinished(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            // Unfinished jobs have the score +inf in the index; finished ones their expiry time.
            let command = ::redis::cmd("ZRANGEBYSCORE").arg(INDEX).arg("+inf").arg("+inf").clone();
            self.command("unfinished", command).await
        })
    }
}
