//! Serve Python models from the Rust server: [`PythonBackend`] runs a Python service
//! (`file.py[:ClassName]`, written with the `easymlserve` Python SDK) in supervised worker processes,
//! one model copy each, and talks to them over the worker protocol of `docs/worker-protocol.md`:
//! length-prefixed JSON frames on a Unix socket.
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
mod pool;
mod process;
mod request;
mod sdk;
mod spawner;

pub use backend::{PythonBackend, PythonConfig};
pub use codec::{CodecError, Connection, MAX_FRAME};
pub use process::StartError;
pub use protocol::PROTO_VERSION;
