//! Structured logs via `tracing`: level from `EASYMLSERVE_LOG` (or `RUST_LOG`), `info` by default.

use tracing_subscriber::EnvFilter;

/// Installs the log subscriber once; later calls (or an existing subscriber) are left alone.
pub fn init() {
    let filter = std::env::var("EASYMLSERVE_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
