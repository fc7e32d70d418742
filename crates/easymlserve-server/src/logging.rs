//! Structured logs via `tracing`: level from `EASYMLSERVE_LOG` (or `RUST_LOG`), `info` by default;
//! human-readable text (the default) or one JSON object per line for log collectors (`--log-format`).

use tracing_subscriber::EnvFilter;

/// How log lines are written on standard output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event: time, level, message, then `key=value` fields.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message` and the event's fields at
    /// the top level, and the request's span (with its `request_id`) under `span` and `spans`.
    Json,
}

/// Installs the text log subscriber once; later calls (or an existing subscriber) are left alone.
pub fn init() {
    init_as(LogFormat::Text);
}

/// Installs the log subscriber in `format` once; later calls (or an existing subscriber) are left
/// alone.
pub fn init_as(format: LogFormat) {
    let filter = std::env::var("EASYMLSERVE_LOG")
        .ok()
        .and_then(|v| EnvFilter::try_new(v).ok())
        .or_else(|| EnvFilter::try_from_default_env().ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let _ = match format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_target(false)
            .try_init(),
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(true)
            .with_ansi(false)
            .with_env_filter(filter)
            .try_init(),
    };
}
