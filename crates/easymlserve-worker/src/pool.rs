//! The supervisor of a service's worker processes: a pool of idle workers that requests lease one at a
//! time, first come first served (a worker given back goes straight to the oldest request still
//! waiting, through its own channel, so a newcomer cannot overtake it), restarts with back-off for
//! workers that crashed or had to be killed (the others keep serving meanwhile), and an orderly
//! shutdown that leaves no child behind.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use easymlserve_server::ModelError;
use tokio::sync::oneshot;

use crate::process::{Launch, WorkerProcess};
use crate::request::Cancelled;
use crate::sdk::Sdk;
use crate::spawner::Spawner;

/// The first restart delay after a crash; it doubles with each crash in a row.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest restart delay.
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// A worker that ran this long before it crashed counts as healthy: its back-off starts over.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// What a request did to the worker it leased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Health {
    /// The worker answered and can take the next request.
    Healthy,
    /// The worker is dead or unusable (the reason, for the log): kill and restart it.
    Broken(String),
}

struct State {
    /// Idle workers; never non-empty while a live request waits.
    idle: Vec<WorkerProcess>,
    /// Requests waiting for a worker, oldest first (a closed sender: that request gave up).
    waiters: VecDeque<oneshot::Sender<WorkerProcess>>,
    busy: usize,
    restarting: usize,
    stopping: bool,
    /// The next restart delay of each worker.
    backoff: Vec<Duration>,
}

/// The worker processes of one service.
pub(crate) struct Supervisor {
    launch: Launch,
    spawner: Spawner,
    sdk: Mutex<Option<Sdk>>,
    state: Mutex<State>,
    changed: Condvar,
    runtime: tokio::runtime::Handle,
}

impl Supervisor {
    /// A supervisor of `workers` ready worker processes, started from `launch` (whose `worker_id` is
    /// replaced by each worker's).
    pub(crate) fn new(
        launch: Launch,
        spawner: Spawner,
        sdk: Sdk,
        workers: Vec<WorkerProcess>,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        let count = workers.len();
        Self {
            launch,
            spawner,
            sdk: Mutex::new(Some(sdk)),
            state: Mutex::new(State {
                idle: workers,
                waiters: VecDeque::new(),
                busy: 0,
                restarting: 0,
                stopping: false,
                backoff: vec![FIRST_BACKOFF; count],
            }),
            changed: Condvar::new(),
            runtime,
        }
    }

    /// Tells the threads (restarts, shutdown) that the state changed.
    fn notify(&self) {
        self.changed.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for an idle worker and leases it, after the requests that waited before it; gives up
    /// when `cancelled()` turns true (the request timed out or its caller left; checked on every
    /// poll, and every `tick` if given) or the server stops.
    pub(crate) async fn lease(
        self: &Arc<Self>,
        cancelled: impl Fn() -> bool + Unpin,
        tick: Option<Duration>,
    ) -> Result<Lease, ModelError> {
        let mut cancelled = Cancelled::new(cancelled, tick);
        let receiver = {
            let mut state = self.lock();
            if state.stopping {
                return Err(stopping());
            }
            if let Some(worker) = state.idle.pop() {
                state.busy += 1;
                return Ok(Lease {
                    supervisor: Arc::clone(self),
                    worker: Some(worker),
                });
            }
            let (sender, receiver) = oneshot::channel();
            state.waiters.push_back(sender);
            receiver
        };
        // Dropped on every way out: a worker handed over as the request gave up goes to the next one.
        let mut waiting = Waiting {
            supervisor: Arc::clone(self),
            receiver,
        };
        tokio::select! {
            biased;
            () = &mut cancelled => Err(ModelError::Cancelled),
            handed = &mut waiting.receiver => match handed {
                Ok(worker) => Ok(Lease {
                    supervisor: Arc::clone(self),
                    worker: Some(worker),
                }),
                // The supervisor dropped the waiters: it stops.
                Err(_) => Err(stopping()),
            },
        }
    }

    /// Hands `worker` to the oldest request still waiting (true), or makes it idle (false).
    fn place(state: &mut State, mut worker: WorkerProcess) -> bool {
        while let Some(waiter) = state.waiters.pop_front() {
            match waiter.send(worker) {
                Ok(()) => return true,
                Err(back) => worker = back,
            }
        }
        state.idle.push(worker);
        false
    }

    fn give_back(&self, worker: WorkerProcess) {
        let mut state = self.lock();
        if !Self::place(&mut state, worker) {
            state.busy -= 1;
        }
        drop(state);
        self.notify();
    }

    /// Kills `worker` and starts a new one in its place in the background, after its back-off.
    fn replace(self: &Arc<Self>, mut worker: WorkerProcess, why: &str) {
        let worker_id = worker.worker_id();
        let uptime = worker.started().elapsed();
        worker.kill();
        drop(worker);
        let mut state = self.lock();
        state.busy -= 1;
        if state.stopping {
            drop(state);
            self.notify();
            return;
        }
        state.restarting += 1;
        let delay = next_backoff(&mut state.backoff[worker_id], uptime);
        drop(state);
        self.notify();
        tracing::warn!(
            worker = worker_id,
            delay_ms = delay.as_millis() as u64,
            "restarting the worker: {why}"
        );
        let supervisor = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name(format!("easymlserve-restart-{worker_id}"))
            .spawn(move || supervisor.restart(worker_id, delay));
        if let Err(err) = spawned {
            tracing::error!(worker = worker_id, %err, "cannot start the thread that restarts the worker");
            self.lock().restarting -= 1;
        }
    }

    /// Starts worker `worker_id` again, retrying with back-off until it is ready or the server stops.
    fn restart(&self, worker_id: usize, mut delay: Duration) {
        let mut launch = self.launch.clone();
        launch.worker_id = worker_id;
        loop {
            if !self.sleep_unless_stopping(delay) {
                break;
            }
            match WorkerProcess::start(&launch, &self.spawner, &self.runtime) {
                Ok((worker, _)) => {
                    let mut state = self.lock();
                    if state.stopping {
                        drop(state);
                        drop(worker);
                        break;
                    }
                    tracing::info!(worker = worker_id, pid = worker.pid(), "the worker is back");
                    if Self::place(&mut state, worker) {
                        state.busy += 1;
                    }
                    state.restarting -= 1;
                    drop(state);
                    self.notify();
                    return;
                }
                Err(err) => {
                    delay = next_backoff(&mut self.lock().backoff[worker_id], Duration::ZERO);
                    tracing::error!(
                        worker = worker_id,
                        retry_in_ms = delay.as_millis() as u64,
                        "the worker did not start again: {err}"
                    );
                }
            }
        }
        self.lock().restarting -= 1;
        self.notify();
    }

    /// Sleeps `delay`, or less if the server stops; false when it stops.
    fn sleep_unless_stopping(&self, delay: Duration) -> bool {
        let until = Instant::now() + delay;
        let mut state = self.lock();
        loop {
            if state.stopping {
                return false;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// The process ids of the idle workers (for tests and logs).
    pub(crate) fn idle_pids(&self) -> Vec<u32> {
        self.lock().idle.iter().map(WorkerProcess::pid).collect()
    }

    /// Stops every worker: waits up to `drain` for the busy ones, sends `shutdown` to each and waits
    /// up to `grace` for them to exit, kills what is left (restarts under way included) and removes
    /// the temporary directories.
    pub(crate) fn shutdown(&self, drain: Duration, grace: Duration) {
        let until = Instant::now() + drain;
        let mut state = self.lock();
        state.stopping = true;
        // The requests still waiting learn that the server stops.
        state.waiters.clear();
        self.notify();
        while state.busy > 0 {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                tracing::warn!(
                    busy = state.busy,
                    "workers still busy after {}s: killing them",
                    drain.as_secs()
                );
                break;
            }
            state = self
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        let idle = std::mem::take(&mut state.idle);
        drop(state);
        std::thread::scope(|scope| {
            for worker in idle {
                scope.spawn(move || worker.stop(grace));
            }
        });
        self.kill_all();
    }

    /// Kills every worker process group at once and removes the temporary directories.
    pub(crate) fn kill_all(&self) {
        let mut state = self.lock();
        state.stopping = true;
        state.waiters.clear();
        let idle = std::mem::take(&mut state.idle);
        drop(state);
        self.notify();
        drop(idle);
        let left = self.spawner.groups().kill_all();
        if left > 0 {
            tracing::warn!(left, "killed the worker processes still running");
        }
        self.spawner.close();
        self.sdk.lock().unwrap_or_else(PoisonError::into_inner).take();
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.kill_all();
    }
}

/// The restart delay for a worker that ran `uptime` before it crashed, and the one after it.
fn next_backoff(backoff: &mut Duration, uptime: Duration) -> Duration {
    if uptime >= HEALTHY_RUN {
        *backoff = FIRST_BACKOFF;
    }
    let delay = *backoff;
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
    delay
}

fn stopping() -> ModelError {
    ModelError::Failed("the server is shutting down".to_owned())
}

/// A request's place in the line for a worker. Dropped without its worker taken (the request gave up
/// or its future was dropped), it gives back a worker handed over meanwhile.
struct Waiting {
    supervisor: Arc<Supervisor>,
    receiver: oneshot::Receiver<WorkerProcess>,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.receiver.close();
        if let Ok(worker) = self.receiver.try_recv() {
            self.supervisor.give_back(worker);
        }
    }
}

/// One worker leased by one request. Returned with [`Lease::finish`]; a lease dropped without it
/// (a panic on the way) replaces the worker, whose state is unknown.
pub(crate) struct Lease {
    supervisor: Arc<Supervisor>,
    worker: Option<WorkerProcess>,
}

impl Lease {
    /// The leased worker.
    pub(crate) fn worker(&mut self) -> &mut WorkerProcess {
        // Present from `lease` until `finish` or drop, which both consume the lease.
        self.worker
            .as_mut()
            .unwrap_or_else(|| unreachable!("a lease holds its worker until it ends"))
    }

    /// Gives the worker back, or replaces it when the request left it broken.
    pub(crate) fn finish(mut self, health: Health) {
        if let Some(worker) = self.worker.take() {
            match health {
                Health::Healthy => self.supervisor.give_back(worker),
                Health::Broken(why) => self.supervisor.replace(worker, &why),
            }
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(worker) = self.worker.take() {
            self.supervisor
                .replace(worker, "a request ended without returning its worker");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_to_ten_seconds_and_resets_after_a_healthy_minute() {
        let mut backoff = FIRST_BACKOFF;
        let delays: Vec<u128> = (0..9)
            .map(|_| next_backoff(&mut backoff, Duration::from_secs(1)).as_millis())
            .collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 6400, 10000, 10000]);
        assert_eq!(next_backoff(&mut backoff, Duration::from_secs(61)), FIRST_BACKOFF);
        assert_eq!(next_backoff(&mut backoff, Duration::ZERO), Duration::from_millis(200));
    }
}
