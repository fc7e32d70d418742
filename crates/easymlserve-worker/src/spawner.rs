//! Where worker processes are born, and the list of their process groups.
//!
//! Every child is started by one long-lived thread, so that nothing about a child depends on which
//! thread happened to start it (a restart, a parallel start): Linux ties `PR_SET_PDEATHSIG` to the
//! parent *thread*, so a worker that asked for it would be killed as soon as a short-lived starter
//! ended. (The SDK's worker watches `getppid()` instead; this keeps any other worker safe too.)
//!
//! [`Groups`] lists the process group of every child not yet reaped, so that shutdown (and `Drop`) can
//! kill them all, even the ones still starting. A group leaves the list before its leader is reaped,
//! so a group id is never signalled after the kernel could have reused it.

use std::collections::HashMap;
use std::io;
use std::process::{Child, Command};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

/// The process groups of the children not yet reaped, each with its worker id.
#[derive(Debug, Default)]
pub struct Groups(Mutex<HashMap<u32, usize>>);

impl Groups {
    fn insert(&self, pid: u32, worker: usize) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(pid, worker);
    }

    /// Kills the process group led by `pid` (SIGKILL) if it is still listed, and unlists it; the
    /// caller reaps the leader next. Returns whether it was listed.
    pub fn kill(&self, pid: u32) -> bool {
        let mut groups = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let listed = groups.remove(&pid).is_some();
        if listed {
            kill_group(pid);
        }
        listed
    }

    /// Sends SIGKILL to every listed group (they stay listed until their owners reap them).
    pub fn kill_all(&self) -> usize {
        let groups = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        for (&pid, &worker) in groups.iter() {
            tracing::warn!(worker, pid, "killing the worker's process group");
            kill_group(pid);
        }
        groups.len()
    }
}

fn kill_group(pid: u32) {
    let Ok(raw) = i32::try_from(pid) else {
        return;
    };
    // ESRCH (the group is gone already) is fine: killing is all that is wanted.
    let _ = killpg(Pid::from_raw(raw), Signal::SIGKILL);
}

type Order = (Command, usize, Sender<io::Result<Child>>);

/// Starts child processes on its own long-lived thread.
#[derive(Debug)]
pub struct Spawner {
    orders: Mutex<Option<Sender<Order>>>,
    groups: Arc<Groups>,
}

impl Spawner {
    /// Starts the spawning thread.
    pub fn new() -> io::Result<Self> {
        let groups = Arc::new(Groups::default());
        let (tx, rx) = channel::<Order>();
        let listed = Arc::clone(&groups);
        std::thread::Builder::new()
            .name("easymlserve-spawner".to_owned())
            .spawn(move || {
                for (mut command, worker, reply) in rx {
                    let spawned = command.spawn();
                    if let Ok(child) = &spawned {
                        listed.insert(child.id(), worker);
                    }
                    let _ = reply.send(spawned);
                }
            })?;
        Ok(Self {
            orders: Mutex::new(Some(tx)),
            groups,
        })
    }

    /// Starts `command` (which must put the child in a process group of its own) for `worker`, and
    /// lists its group.
    pub fn spawn(&self, command: Command, worker: usize) -> io::Result<Child> {
        let (reply, answer) = channel();
        {
            let orders = self.orders.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(orders) = orders.as_ref() else {
                return Err(io::Error::other("the server is shutting down"));
            };
            orders
                .send((command, worker, reply))
                .map_err(|_| io::Error::other("the spawning thread is gone"))?;
        }
        answer
            .recv()
            .map_err(|_| io::Error::other("the spawning thread is gone"))?
    }

    /// The process groups of the children not yet reaped.
    pub fn groups(&self) -> &Arc<Groups> {
        &self.groups
    }

    /// Stops starting children: the thread ends (after the order it may be carrying out).
    pub fn close(&self) {
        self.orders.lock().unwrap_or_else(PoisonError::into_inner).take();
    }
}
