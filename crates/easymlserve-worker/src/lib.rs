//! Serve Python models from the Rust server: [`PythonBackend`] runs a Python service
//! (`file.py[:ClassName]`, written with the `easymlserve` Python SDK) in supervised worker processes,
//! one model copy each, and talks to them over the worker protocol of `docs/worker-protocol.md`:
//! length-prefixed JSON frames on a Unix socket.
//!
//! What happens, in short: loading writes the embedded SDK to a private temporary directory, starts
//! every worker in parallel (each in its own process group, `OMP_NUM_THREADS=1` and the other BLAS
//! thread variables unless set) and is done once each has loaded its model; the spec (schemas, info,
//! example, capabilities) is the first worker's. Requests run as tasks on the server's runtime (the
//! backend says `runs_async`): a request leases an idle worker, or waits in line for one (first come,
//! first served) and counts as queued, with its position, until it has one; a worker that dies
//! fails its request with `worker_crashed` and restarts in the background (0.1 s back-off doubling to
//! 10 s, reset after a healthy minute); a request past its timeout is sent `cancel`, and its worker is
//! killed and restarted if it has not stopped within [`PythonConfig::cancel_grace`]. Shutdown waits up
//! to 30 s for busy workers, sends `shutdown`, gives each 5 s to exit and kills what is left; no child
//! outlives the backend, dropped or shut down.
//!
//! ```no_run
//! use easymlserve_server::Server;
//! use easymlserve_worker::{PythonBackend, PythonConfig};
//!
//! let backend = PythonBackend::new(PythonConfig::new("service.py"));
//! Server::from_backend(backend).run();
//! ```

pub mod codec;
pub mod protocol;

mod backend;
mod output;
mod pool;
mod process;
mod request;
mod sdk;
mod spawner;
mod stream;

pub use backend::{PythonBackend, PythonConfig};
pub use codec::{CodecError, Connection, MAX_FRAME};
pub use process::StartError;
pub use protocol::PROTO_VERSION;
pub use stream::AsyncConnection;
