//! `Context`: what model code may know about the request it is answering, and how it talks back while
//! it runs: the request id, its deadline, a cancellation flag the server sets when the caller goes away
//! or the timeout passes, and progress reports for streaming clients and job status.
//!
//! The contract crate has no async runtime, so progress leaves through a plain callback that the server
//! installs; reporting progress never blocks the model.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::ServiceError;

/// The id of one request: the caller's own (an `X-Request-Id` header) or one the server made up.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RequestId {
    /// Numbered by the server, unique within its process; shown as `req-<hex>`.
    Counter(u64),
    /// Given by the caller.
    Given(Arc<str>),
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Counter(n) => write!(f, "req-{n:x}"),
            Self::Given(id) => f.write_str(id),
        }
    }
}

/// One progress report: how far the work is (0 to 1, when the model knows) and what it is doing.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The finished share of the work, from 0 to 1; `None` when the model cannot tell.
    pub fraction: Option<f64>,
    /// What the model is doing, in plain words (may be empty).
    pub message: String,
}

/// Where progress reports go; installed by the server.
pub type ProgressSink = Arc<dyn Fn(Progress) + Send + Sync>;

/// A flag that the server sets once the answer is no longer wanted. Cloning shares the flag.
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Option<Arc<AtomicBool>>);

impl CancelFlag {
    /// A flag that can be set.
    pub fn new() -> Self {
        Self(Some(Arc::new(AtomicBool::new(false))))
    }

    /// A flag that is never set (for calls nobody can cancel); costs no allocation.
    pub fn never() -> Self {
        Self(None)
    }

    /// Sets the flag; returns whether this call set it (false if it was set already or cannot be).
    pub fn cancel(&self) -> bool {
        self.0.as_ref().is_some_and(|flag| !flag.swap(true, Ordering::AcqRel))
    }

    /// Whether the flag is set.
    pub fn is_cancelled(&self) -> bool {
        self.0.as_ref().is_some_and(|flag| flag.load(Ordering::Acquire))
    }
}

/// What a model knows about the request it is answering.
///
/// A service gets it by overriding [`Service::process_with`](crate::Service::process_with). Long work
/// should call [`Context::check_cancelled`] between steps, so a request whose caller is gone stops
/// using the model, and may call [`Context::progress`] so waiting users see how far it is.
///
/// ```
/// use easymlserve_core::{Context, ServiceError};
///
/// fn long_work(ctx: &Context) -> Result<u32, ServiceError> {
///     let mut total = 0;
///     for step in 0..5 {
///         ctx.check_cancelled()?;
///         total += step;
///         ctx.progress(f64::from(step + 1) / 5.0, format!("step {} of 5", step + 1));
///     }
///     Ok(total)
/// }
///
/// assert_eq!(long_work(&Context::detached()).unwrap(), 10);
/// ```
#[derive(Clone)]
pub struct Context {
    id: RequestId,
    deadline: Option<Instant>,
    cancel: CancelFlag,
    progress: Option<ProgressSink>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("id", &self.id)
            .field("deadline", &self.deadline)
            .field("cancelled", &self.cancel.is_cancelled())
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl Context {
    /// A context for request `id` with no deadline, a flag nobody sets and progress going nowhere.
    pub fn new(id: RequestId) -> Self {
        Self {
            id,
            deadline: None,
            cancel: CancelFlag::never(),
            progress: None,
        }
    }

    /// A context outside any server request (tests, a `process` that forwards to `process_with`).
    pub fn detached() -> Self {
        Self::new(RequestId::Counter(0))
    }

    /// Sets the deadline.
    #[must_use]
    pub fn with_deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Uses `flag` as the cancellation flag.
    #[must_use]
    pub fn with_cancel(mut self, flag: CancelFlag) -> Self {
        self.cancel = flag;
        self
    }

    /// Sends progress reports to `sink`.
    #[must_use]
    pub fn with_progress(mut self, sink: ProgressSink) -> Self {
        self.progress = Some(sink);
        self
    }

    /// The request id, also in the server's log lines for this request.
    pub fn id(&self) -> &RequestId {
        &self.id
    }

    /// When the caller stops waiting (the server's timeout), if there is one.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time left before the deadline; `None` without a deadline, zero once it has passed.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Whether the answer is no longer wanted: the caller went away, the timeout passed, or the job
    /// was cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// `Err(ServiceError::Cancelled)` once the request is cancelled, so long work can stop with `?`.
    pub fn check_cancelled(&self) -> Result<(), ServiceError> {
        if self.is_cancelled() {
            Err(ServiceError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// The cancellation flag itself, to hand to code that runs elsewhere (another thread).
    pub fn cancel_flag(&self) -> &CancelFlag {
        &self.cancel
    }

    /// Reports how far the work is: `fraction` from 0 to 1 (clamped; NaN counts as unknown).
    pub fn progress(&self, fraction: f64, message: impl Into<String>) {
        let fraction = (!fraction.is_nan()).then(|| fraction.clamp(0.0, 1.0));
        self.report(Progress {
            fraction,
            message: message.into(),
        });
    }

    /// Reports what the model is doing without saying how far it is.
    pub fn message(&self, message: impl Into<String>) {
        self.report(Progress {
            fraction: None,
            message: message.into(),
        });
    }

    /// Whether anyone listens to progress reports (skip building costly messages otherwise).
    pub fn wants_progress(&self) -> bool {
        self.progress.is_some()
    }

    fn report(&self, progress: Progress) {
        if let Some(sink) = &self.progress {
            sink(progress);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn a_shared_flag_is_seen_by_every_clone() {
        let flag = CancelFlag::new();
        let ctx = Context::detached().with_cancel(flag.clone());
        assert!(ctx.check_cancelled().is_ok());
        assert!(flag.cancel(), "the first cancel sets it");
        assert!(!flag.cancel(), "the second finds it set");
        assert!(ctx.is_cancelled());
        assert_eq!(ctx.check_cancelled(), Err(ServiceError::Cancelled));
    }

    #[test]
    fn a_never_flag_cannot_be_set() {
        let flag = CancelFlag::never();
        assert!(!flag.cancel());
        assert!(!flag.is_cancelled());
    }

    #[test]
    fn progress_reaches_the_sink_clamped() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let ctx = Context::new(RequestId::Counter(255)).with_progress(Arc::new(move |p: Progress| {
            sink.lock().expect("lock").push(p);
        }));
        ctx.progress(1.5, "done");
        ctx.progress(f64::NAN, "unknown");
        ctx.message("just words");
        let seen = seen.lock().expect("lock");
        assert_eq!(seen[0].fraction, Some(1.0));
        assert_eq!(seen[1].fraction, None);
        assert_eq!(seen[2].message, "just words");
        assert_eq!(ctx.id().to_string(), "req-ff");
    }

    #[test]
    fn remaining_time_never_goes_negative() {
        let ctx = Context::detached().with_deadline(Instant::now());
        assert_eq!(ctx.remaining(), Some(Duration::ZERO));
        assert_eq!(Context::detached().remaining(), None);
    }
}
