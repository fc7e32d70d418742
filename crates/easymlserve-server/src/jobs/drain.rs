//! Drain: what the jobs of a stopping server do. From the start of [`Jobs::drain`] new submits are
//! refused (503 `shutting_down` with `Retry-After`, so a balancer retries elsewhere); jobs this replica
//! runs get until the deadline to finish. Those still unfinished then go back to a shared store (Redis),
//! queued, for another replica to claim (see `handback.rs`); with the memory store they end with a
//! `shutting_down` error event, which a client following the job's events reads as its terminal event.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Jobs;
use super::driver::LocalJob;

/// How long, after the deadline, the drivers get to write the terminal event of the jobs they stop.
const STOP_GRACE: Duration = Duration::from_secs(2);
/// How often the local jobs are counted while waiting.
const POLL: Duration = Duration::from_millis(50);

/// What [`Jobs::drain`] did with the jobs this replica ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Jobs that ended on their own before the deadline.
    pub finished: usize,
    /// Jobs given back to the store for another replica to run.
    pub handed_back: usize,
    /// Jobs stopped at the deadline with a `shutting_down` error.
    pub failed: usize,
}

impl fmt::Display for DrainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "jobs drained: {} finished, {} handed back, {} failed",
            self.finished, self.handed_back, self.failed
        )
    }
}

impl Jobs {
    /// Refuses new submits from now on (503 `shutting_down`).
    pub fn stop_accepting(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    /// Whether new submits are refused.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Drains the jobs this replica runs: refuses new submits, waits until `until` for the local jobs
    /// to end, then stops the rest, handing them back to a shared store or failing them with
    /// `shutting_down`, and waits briefly for their drivers to write that. Returns what became of them.
    pub async fn drain(&self, until: Instant) -> DrainReport {
        self.stop_accepting();
        let at_start = self.locals().len();
        while !self.locals().is_empty() && Instant::now() < until {
            tokio::time::sleep(POLL.min(until.saturating_duration_since(Instant::now()))).await;
        }
        let left: Vec<Arc<LocalJob>> = self.locals().values().cloned().collect();
        let shared = self.store.get().is_some_and(|store| store.shared());
        for job in &left {
            if shared {
                job.hand_back_for_shutdown();
            } else {
                job.stop_for_shutdown();
            }
        }
        let give_up = Instant::now() + STOP_GRACE;
        while !self.locals().is_empty() && Instant::now() < give_up {
            tokio::time::sleep(POLL).await;
        }
        let handed_back = left.iter().filter(|job| job.was_handed_back()).count();
        DrainReport {
            finished: at_start.saturating_sub(left.len()),
            handed_back,
            failed: left.len() - handed_back,
        }
    }
}
