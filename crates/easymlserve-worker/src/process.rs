//! One Python worker process: started as `<python> -m easymlserve.worker` in a process group of its
//! own, connected over a Unix socket in a private temporary directory, taken through the
//! hello/init/ready handshake, its stdout and stderr copied line by line into the log, and killed with
//! its whole group when it misbehaves or is dropped.

use std::collections::VecDeque;
use std::io::{ErrorKind, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use easymlserve_core::{ServiceInfo, ServiceSpec};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;

use crate::codec::{CodecError, Connection, encode};
use crate::output::{STDERR_TAIL, copy_lines, wait_for_copiers};
use crate::protocol::{FromWorker, PROTO_VERSION, ToWorker};
use crate::spawner::{Groups, Spawner};
use crate::stream::AsyncConnection;

/// How often the start-up checks whether the child has exited while it waits for it.
const POLL: Duration = Duration::from_millis(20);

/// The thread-count variables set to 1 unless the user set them: N workers on a few cores must not
/// each start a BLAS thread per core.
const THREAD_VARIABLES: [&str; 5] = [
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
];

/// What a worker process is started with.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The Python interpreter.
    pub python_bin: PathBuf,
    /// `file.py[:ClassName]`, passed on as `EASYMLSERVE_SERVICE`.
    pub service: String,
    /// The directory holding the extracted `easymlserve` package (prepended to `PYTHONPATH`).
    pub sdk_dir: PathBuf,
    /// The worker's number.
    pub worker_id: usize,
    /// How long importing the service and `load_model()` may take.
    pub start_timeout: Duration,
}

/// Why a worker did not become ready.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The private directory, the socket or the process could not be created.
    #[error("cannot start `{python}`: {source}")]
    Spawn {
        /// The interpreter.
        python: String,
        /// Why.
        source: std::io::Error,
    },
    /// The process exited before it was ready.
    #[error("the worker {status} before it was ready{}", tail_suffix(.stderr))]
    Exited {
        /// How it exited.
        status: String,
        /// Its last stderr lines.
        stderr: String,
    },
    /// It did not become ready within the start timeout.
    #[error("the worker was not ready within {}s{}", .waited.as_secs_f64(), tail_suffix(.stderr))]
    TimedOut {
        /// The start timeout.
        waited: Duration,
        /// Its last stderr lines.
        stderr: String,
    },
    /// It broke the protocol.
    #[error("the worker broke the protocol: {0}")]
    Protocol(String),
    /// Importing the service or `load_model()` raised.
    #[error("{error}")]
    SetupFailed {
        /// The last line of the traceback.
        error: String,
        /// The whole traceback.
        traceback: String,
    },
}

fn tail_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!("; its last output:\n{stderr}")
    }
}

/// A running worker process that finished its handshake.
#[derive(Debug)]
pub struct WorkerProcess {
    worker_id: usize,
    pid: u32,
    child: Option<Child>,
    groups: Arc<Groups>,
    /// The blocking connection of the handshake, until the worker is ready.
    conn: Option<Connection>,
    /// The connection requests use once the worker is ready.
    running: Option<AsyncConnection>,
    /// A second handle on the socket, for `shutdown` from a thread without a runtime.
    control: Option<UnixStream>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    copiers: Vec<JoinHandle<()>>,
    started: Instant,
    // Removed (with the socket in it) when the worker is dropped.
    _dir: tempfile::TempDir,
}

impl WorkerProcess {
    /// Starts a worker and waits until its model is loaded; returns it with the spec it reported. Its
    /// request connection is registered with `runtime`.
    pub fn start(
        launch: &Launch,
        spawner: &Spawner,
        runtime: &tokio::runtime::Handle,
    ) -> Result<(Self, ServiceSpec), StartError> {
        let deadline = Instant::now() + launch.start_timeout;
        let spawn_error = |source| StartError::Spawn {
            python: launch.python_bin.display().to_string(),
            source,
        };
        let dir = crate::sdk::private_dir("easymlserve-worker-").map_err(spawn_error)?;
        let socket = dir.path().join("worker.sock");
        let listener = UnixListener::bind(&socket).map_err(spawn_error)?;
        listener.set_nonblocking(true).map_err(spawn_error)?;
        let command = command(launch, &socket);
        let mut child = spawner.spawn(command, launch.worker_id).map_err(spawn_error)?;
        let pid = child.id();
        let stderr_tail = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_TAIL)));
        let mut copiers = Vec::new();
        if let Some(stdout) = child.stdout.take() {
            copiers.extend(copy_lines(stdout, launch.worker_id, pid, None));
        }
        if let Some(stderr) = child.stderr.take() {
            copiers.extend(copy_lines(
                stderr,
                launch.worker_id,
                pid,
                Some(Arc::clone(&stderr_tail)),
            ));
        }
        let mut starting = Starting {
            pid,
            child: Some(child),
            groups: Arc::clone(spawner.groups()),
            stderr_tail,
            copiers,
            deadline,
            timeout: launch.start_timeout,
        };
        let stream = starting.accept(&listener)?;
        drop(listener);
        let conn = Connection::new(stream).map_err(|err| StartError::Protocol(err.to_string()))?;
        let mut worker = Self {
            worker_id: launch.worker_id,
            pid,
            child: starting.child.take(),
            groups: Arc::clone(&starting.groups),
            conn: Some(conn),
            running: None,
            control: None,
            stderr_tail: Arc::clone(&starting.stderr_tail),
            copiers: std::mem::take(&mut starting.copiers),
            started: Instant::now(),
            _dir: dir,
        };
        let spec = worker.handshake(deadline, launch.start_timeout)?;
        worker.go_async(runtime)?;
        worker.started = Instant::now();
        Ok((worker, spec))
    }

    /// Moves the connection onto the runtime, keeping a blocking handle for `shutdown`.
    fn go_async(&mut self, runtime: &tokio::runtime::Handle) -> Result<(), StartError> {
        let protocol = |err: &dyn std::fmt::Display| StartError::Protocol(err.to_string());
        let conn = self
            .conn
            .take()
            .ok_or_else(|| StartError::Protocol("the connection is gone".to_owned()))?;
        self.control = Some(conn.try_clone_stream().map_err(|err| protocol(&err))?);
        let _context = runtime.enter();
        self.running = Some(AsyncConnection::from_connection(conn).map_err(|err| protocol(&err))?);
        Ok(())
    }

    fn handshake(&mut self, deadline: Instant, timeout: Duration) -> Result<ServiceSpec, StartError> {
        let hello = self.recv_until(deadline, timeout)?;
        let FromWorker::Hello {
            proto,
            pid,
            python,
            sdk_version,
        } = hello
        else {
            return Err(StartError::Protocol(format!(
                "its first message is `{}`, not `hello`",
                hello.kind()
            )));
        };
        if proto != PROTO_VERSION {
            tracing::error!(
                worker = self.worker_id,
                pid,
                proto,
                "the worker speaks protocol version {proto}, this server speaks {PROTO_VERSION}: stopping it \
                 (install the matching easymlserve SDK, or let the server use the one it carries)"
            );
            return Err(StartError::Protocol(format!(
                "it speaks protocol version {proto}, this server speaks {PROTO_VERSION}"
            )));
        }
        tracing::info!(worker = self.worker_id, pid, %python, %sdk_version, "worker connected, loading the model");
        let init = ToWorker::Init {
            worker_id: self.worker_id,
        };
        let sent = match self.conn.as_mut() {
            Some(conn) => conn.send(&init),
            None => Err(CodecError::Closed),
        };
        sent.map_err(|err| self.broken(&err))?;
        match self.recv_until(deadline, timeout)? {
            FromWorker::Ready {
                info,
                request_schema,
                response_schema,
                example_request,
                capabilities,
            } => {
                let info = ServiceInfo {
                    name: info.name,
                    version: info.version,
                    description: info.description,
                };
                let mut spec = ServiceSpec::new(info, request_schema, response_schema);
                spec.example_request = example_request;
                spec.capabilities = capabilities;
                Ok(spec)
            }
            FromWorker::SetupFailed { error, traceback } => Err(StartError::SetupFailed { error, traceback }),
            other => Err(StartError::Protocol(format!(
                "it sent `{}` where `ready` or `setup_failed` belongs",
                other.kind()
            ))),
        }
    }

    /// Reads messages until one arrives, the worker dies or the deadline passes.
    fn recv_until(&mut self, deadline: Instant, timeout: Duration) -> Result<FromWorker, StartError> {
        loop {
            if Instant::now() >= deadline {
                return Err(StartError::TimedOut {
                    waited: timeout,
                    stderr: self.stderr_tail(),
                });
            }
            let read = match self.conn.as_mut() {
                Some(conn) => conn.recv::<FromWorker>(Duration::from_millis(100)),
                None => Err(CodecError::Closed),
            };
            match read {
                Ok(Some(message)) => return Ok(message),
                Ok(None) => {}
                Err(err) => return Err(self.broken(&err)),
            }
        }
    }

    /// The start error for a connection that broke: the exit status and stderr if the process died.
    fn broken(&mut self, err: &CodecError) -> StartError {
        let waited = Instant::now();
        while waited.elapsed() < Duration::from_secs(2) {
            if let Some(status) = self.exit_status() {
                wait_for_copiers(&self.copiers, Duration::from_secs(1));
                return StartError::Exited {
                    status,
                    stderr: self.stderr_tail(),
                };
            }
            std::thread::sleep(POLL);
        }
        StartError::Protocol(err.to_string())
    }

    /// The worker's number.
    pub fn worker_id(&self) -> usize {
        self.worker_id
    }

    /// The process id (the leader of its process group).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// When the worker became ready.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Sends one message.
    pub async fn send(&mut self, message: &ToWorker) -> Result<(), CodecError> {
        match self.running.as_mut() {
            Some(conn) => conn.send(message).await,
            None => Err(CodecError::Closed),
        }
    }

    /// Reads the next message (cancel-safe).
    pub async fn recv(&mut self) -> Result<FromWorker, CodecError> {
        match self.running.as_mut() {
            Some(conn) => conn.recv().await,
            None => Err(CodecError::Closed),
        }
    }

    /// How the process ended, if it has (without reaping it).
    pub fn exit_status(&self) -> Option<String> {
        exit_status(self.pid)
    }

    /// The last lines the worker wrote to stderr.
    pub fn stderr_tail(&self) -> String {
        let tail = self.stderr_tail.lock().unwrap_or_else(PoisonError::into_inner);
        tail.iter().map(String::as_str).collect::<Vec<_>>().join("\n")
    }

    /// Kills the whole process group (SIGKILL) and reaps the worker; returns how it ended.
    pub fn kill(&mut self) -> String {
        let status = self.exit_status();
        kill_and_reap(&self.groups, self.pid, &mut self.child);
        status.unwrap_or_else(|| "was killed".to_owned())
    }

    /// Asks the worker to exit (`shutdown`), waits up to `grace` for it, then kills what is left of
    /// its group.
    pub fn stop(mut self, grace: Duration) {
        let deadline = Instant::now() + grace;
        // The socket is non-blocking now; a frame this small fits its buffer. `bye` stays unread.
        let sent = match (self.control.as_mut(), encode(&ToWorker::Shutdown)) {
            (Some(control), Ok(frame)) => control.write_all(&frame).is_ok(),
            _ => false,
        };
        if sent {
            while Instant::now() < deadline && self.exit_status().is_none() {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        match self.exit_status() {
            Some(status) => tracing::info!(worker = self.worker_id, pid = self.pid, "worker {status}"),
            None => tracing::warn!(
                worker = self.worker_id,
                pid = self.pid,
                "the worker did not exit within {}s of `shutdown`: killing it",
                grace.as_secs_f64()
            ),
        }
        self.kill();
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        kill_and_reap(&self.groups, self.pid, &mut self.child);
    }
}

/// A worker between spawn and connection; kills the child if starting fails.
struct Starting {
    pid: u32,
    child: Option<Child>,
    groups: Arc<Groups>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    copiers: Vec<JoinHandle<()>>,
    deadline: Instant,
    timeout: Duration,
}

impl Starting {
    /// Waits for the worker to connect, noticing when it exits first.
    fn accept(&mut self, listener: &UnixListener) -> Result<std::os::unix::net::UnixStream, StartError> {
        loop {
            match listener.accept() {
                Ok((stream, _)) => return Ok(stream),
                Err(err) if err.kind() == ErrorKind::WouldBlock || err.kind() == ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(StartError::Spawn {
                        python: "the worker socket".to_owned(),
                        source,
                    });
                }
            }
            if let Some(status) = exit_status(self.pid) {
                wait_for_copiers(&self.copiers, Duration::from_secs(1));
                return Err(StartError::Exited {
                    status,
                    stderr: tail(&self.stderr_tail),
                });
            }
            if Instant::now() >= self.deadline {
                return Err(StartError::TimedOut {
                    waited: self.timeout,
                    stderr: tail(&self.stderr_tail),
                });
            }
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        if self.child.is_some() {
            kill_and_reap(&self.groups, self.pid, &mut self.child);
        }
    }
}

fn tail(lines: &Mutex<VecDeque<String>>) -> String {
    let lines = lines.lock().unwrap_or_else(PoisonError::into_inner);
    lines.iter().map(String::as_str).collect::<Vec<_>>().join("\n")
}

/// Kills the group of `pid` if it is still listed, then reaps the child.
fn kill_and_reap(groups: &Groups, pid: u32, child: &mut Option<Child>) {
    groups.kill(pid);
    if let Some(mut child) = child.take() {
        let _ = child.wait();
    }
}

/// How the process `pid` ended, if it has, leaving it unreaped (so its group id stays reserved).
fn exit_status(pid: u32) -> Option<String> {
    let raw = i32::try_from(pid).ok()?;
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    match waitid(Id::Pid(Pid::from_raw(raw)), flags) {
        Ok(WaitStatus::Exited(_, code)) => Some(format!("exited with status {code}")),
        Ok(WaitStatus::Signaled(_, signal, _)) => Some(format!("was killed by {signal}")),
        Ok(_) => None,
        // ECHILD: reaped already.
        Err(_) => Some("exited".to_owned()),
    }
}

/// The command line and environment of a worker.
fn command(launch: &Launch, socket: &Path) -> Command {
    let mut command = Command::new(&launch.python_bin);
    command
        .args(["-m", "easymlserve.worker"])
        .env("EASYMLSERVE_WORKER_SOCKET", socket)
        .env("EASYMLSERVE_WORKER_ID", launch.worker_id.to_string())
        .env("EASYMLSERVE_SERVICE", &launch.service)
        .env("PYTHONPATH", python_path(&launch.sdk_dir))
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for variable in THREAD_VARIABLES {
        if std::env::var_os(variable).is_none() {
            command.env(variable, "1");
        }
    }
    command
}

/// `sdk_dir` in front of the `PYTHONPATH` the server was started with.
fn python_path(sdk_dir: &Path) -> std::ffi::OsString {
    let mut paths = vec![sdk_dir.to_owned()];
    if let Some(existing) = std::env::var_os("PYTHONPATH") {
        paths.extend(std::env::split_paths(&existing));
    }
    std::env::join_paths(paths).unwrap_or_else(|_| sdk_dir.as_os_str().to_owned())
}
