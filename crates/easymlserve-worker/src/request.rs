//! One request (or one batch) on a leased worker: send `predict`, pass progress on, wait for the
//! outcome on the runtime while watching the cancellation flag, send `cancel` when it is set, and map
//! what the worker answered (or that it died) to a [`ModelError`].
//!
//! The flag is a plain atomic: the engine sets it and polls the request's future again at once (see
//! `Backend::run_async`), and [`Cancelled`] checks it on every poll, so a cancel reaches the worker
//! without any timer. A blocking caller (a batch on an engine thread) has nobody to poll it again: it
//! passes a `tick` to check the flag that often.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use tokio::time::Instant;

use bytes::Bytes;
use easymlserve_server::{Item, ModelError};
use serde_json::Value;

use crate::codec::CodecError;
use crate::pool::Health;
use crate::process::WorkerProcess;
use crate::protocol::{BatchEntry, ErrorDetail, FromWorker, ToWorker};

/// How often a blocking caller checks the cancellation flag.
pub(crate) const TICK: Duration = Duration::from_millis(20);

/// Resolves once `check()` is true: checked whenever it is polled, and every `tick` if there is one.
pub(crate) struct Cancelled<F> {
    check: F,
    tick: Option<Pin<Box<tokio::time::Sleep>>>,
    every: Option<Duration>,
}

impl<F: Fn() -> bool + Unpin> Cancelled<F> {
    pub(crate) fn new(check: F, every: Option<Duration>) -> Self {
        Self {
            check,
            tick: every.map(|every| Box::pin(tokio::time::sleep(every))),
            every,
        }
    }
}

impl<F: Fn() -> bool + Unpin> Future for Cancelled<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            if (this.check)() {
                return Poll::Ready(());
            }
            let (Some(tick), Some(every)) = (this.tick.as_mut(), this.every) else {
                return Poll::Pending;
            };
            if tick.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            tick.as_mut().reset(Instant::now() + every);
        }
    }
}

/// Runs one request on `worker`. On cancellation, sends `cancel` and waits up to `grace` for the
/// worker to stop; a worker that does not is reported broken (to be killed and restarted).
pub(crate) async fn predict(
    worker: &mut WorkerProcess,
    item: Item,
    grace: Duration,
    tick: Option<Duration>,
) -> (Result<Bytes, ModelError>, Health) {
    let Item { request, ctx, .. } = item;
    let id = ctx.id().to_string();
    let deadline_ms = ctx
        .remaining()
        .map(|left| u64::try_from(left.as_millis()).unwrap_or(u64::MAX));
    let mut cancelled = Cancelled::new(|| ctx.is_cancelled(), tick);
    let frame = ToWorker::Predict {
        id: id.clone(),
        input: request,
        deadline_ms,
    };
    // A large frame to a worker that reads slowly can take a while: a cancel (or the deadline) ends the
    // wait, and the half-written connection is then of no further use.
    let sent = tokio::select! {
        biased;
        sent = worker.send(&frame) => Some(sent),
        () = &mut cancelled => None,
    };
    match sent {
        Some(Ok(())) => {}
        Some(Err(CodecError::TooLarge(size))) => return (Err(too_large(size)), Health::Healthy),
        Some(Err(err)) => return crashed(worker, &id, &err).await,
        None => {
            let health = Health::Broken(format!("it was cancelled while {id} was being written to it"));
            return (Err(ModelError::Cancelled), health);
        }
    }
    loop {
        let read = tokio::select! {
            biased;
            () = &mut cancelled => None,
            read = next(worker, &id) => Some(read),
        };
        let message = match read {
            None => return (Err(ModelError::Cancelled), cancel(worker, &id, grace).await),
            Some(Ok(message)) => message,
            Some(Err(err)) => return crashed(worker, &id, &err).await,
        };
        match message {
            FromWorker::Progress { fraction, message, .. } => match fraction {
                Some(fraction) => ctx.progress(fraction, message),
                None => ctx.message(message),
            },
            FromWorker::Done { output, .. } => return (to_bytes(&output), Health::Healthy),
            FromWorker::Failed {
                status,
                error_type,
                message,
                field,
                traceback,
                ..
            } => {
                let detail = ErrorDetail {
                    status,
                    error_type,
                    message,
                    field,
                    traceback,
                };
                return (Err(failure(detail)), Health::Healthy);
            }
            FromWorker::Cancelled { .. } => return (Err(ModelError::Cancelled), Health::Healthy),
            other => return protocol_error(worker, &id, &other),
        }
    }
}

/// Runs several requests as one `predict_batch` on `worker` (which said it batches). The batch is
/// cancelled only when every one of its requests is.
pub(crate) async fn predict_batch(
    worker: &mut WorkerProcess,
    items: Vec<Item>,
    batch_id: String,
    grace: Duration,
    tick: Option<Duration>,
) -> (Vec<Result<Bytes, ModelError>>, Health) {
    let count = items.len();
    let mut contexts = Vec::with_capacity(count);
    let mut inputs = Vec::with_capacity(count);
    for item in items {
        let Item { request, ctx, .. } = item;
        inputs.push(request);
        contexts.push(ctx);
    }
    let all = |outcome: Result<Bytes, ModelError>| vec![outcome; count];
    let sent = worker
        .send(&ToWorker::PredictBatch {
            id: batch_id.clone(),
            inputs,
        })
        .await;
    match sent {
        Ok(()) => {}
        Err(CodecError::TooLarge(size)) => return (all(Err(too_large(size))), Health::Healthy),
        Err(err) => {
            let (outcome, health) = crashed(worker, &batch_id, &err).await;
            return (all(outcome), health);
        }
    }
    let mut cancelled = Cancelled::new(|| contexts.iter().all(easymlserve_core::Context::is_cancelled), tick);
    loop {
        let read = tokio::select! {
            biased;
            () = &mut cancelled => None,
            read = next(worker, &batch_id) => Some(read),
        };
        let message = match read {
            None => return (all(Err(ModelError::Cancelled)), cancel(worker, &batch_id, grace).await),
            Some(Ok(message)) => message,
            Some(Err(err)) => {
                let (outcome, health) = crashed(worker, &batch_id, &err).await;
                return (all(outcome), health);
            }
        };
        match message {
            // Progress of a batch has no single request to go to.
            FromWorker::Progress { .. } => {}
            FromWorker::DoneBatch { outputs, .. } if outputs.len() == count => {
                let outcomes = outputs
                    .into_iter()
                    .map(|entry| match entry {
                        BatchEntry::Output(output) => to_bytes(&output),
                        BatchEntry::Error(detail) => Err(failure(detail)),
                    })
                    .collect();
                return (outcomes, Health::Healthy);
            }
            FromWorker::DoneBatch { outputs, .. } => {
                let message = format!("process_batch returned {} results for {count} requests", outputs.len());
                return (all(Err(ModelError::Failed(message))), Health::Healthy);
            }
            FromWorker::Failed {
                status,
                error_type,
                message,
                field,
                traceback,
                ..
            } => {
                let detail = ErrorDetail {
                    status,
                    error_type,
                    message,
                    field,
                    traceback,
                };
                return (all(Err(failure(detail))), Health::Healthy);
            }
            FromWorker::Cancelled { .. } => return (all(Err(ModelError::Cancelled)), Health::Healthy),
            other => {
                let (outcome, health) = protocol_error(worker, &batch_id, &other);
                return (all(outcome), health);
            }
        }
    }
}

/// Reads the next message about request `id` (cancel-safe); messages about other (earlier,
/// cancelled) requests are skipped.
async fn next(worker: &mut WorkerProcess, id: &str) -> Result<FromWorker, CodecError> {
    loop {
        let message = worker.recv().await?;
        match message.request_id() {
            Some(other) if other != id => {
                tracing::debug!(worker = worker.worker_id(), request_id = %other, kind = message.kind(), "skipping a late message");
            }
            _ => return Ok(message),
        }
    }
}

/// Sends `cancel` for `id` and waits up to `grace` for the worker to stop working on it.
async fn cancel(worker: &mut WorkerProcess, id: &str, grace: Duration) -> Health {
    let waited = tokio::time::timeout(grace, async {
        if let Err(err) = worker.send(&ToWorker::Cancel { id: id.to_owned() }).await {
            return Health::Broken(format!("it could not be sent `cancel` for {id}: {err}"));
        }
        loop {
            match next(worker, id).await {
                Ok(
                    FromWorker::Cancelled { .. }
                    | FromWorker::Done { .. }
                    | FromWorker::Failed { .. }
                    | FromWorker::DoneBatch { .. },
                ) => return Health::Healthy,
                Ok(_) => {}
                Err(err) => return Health::Broken(format!("it failed after `cancel` for {id}: {err}")),
            }
        }
    })
    .await;
    waited.unwrap_or_else(|_| {
        Health::Broken(format!(
            "it did not stop {id} within {}s of `cancel`",
            grace.as_secs_f64()
        ))
    })
}

/// A request that cannot go to the worker because its frame would be over 64 MiB (nothing was sent,
/// so the worker is fine).
fn too_large(size: usize) -> ModelError {
    ModelError::Failed(format!(
        "the request is {size} bytes as JSON, over the worker protocol's 64 MiB frame limit"
    ))
}

/// The request's outcome when the worker died or its connection broke.
async fn crashed(worker: &mut WorkerProcess, id: &str, err: &CodecError) -> (Result<Bytes, ModelError>, Health) {
    // The end of the stream usually comes just before the exit status: give it a moment.
    let since = Instant::now();
    let mut status = worker.exit_status();
    while status.is_none() && since.elapsed() < Duration::from_millis(500) {
        tokio::time::sleep(Duration::from_millis(10)).await;
        status = worker.exit_status();
    }
    let ended = status.unwrap_or_else(|| format!("broke its connection ({err})"));
    let mut detail = format!(
        "worker {} (pid {}) {ended} while it ran {id}",
        worker.worker_id(),
        worker.pid()
    );
    let tail = worker.stderr_tail();
    if !tail.is_empty() {
        detail.push_str("; its last output:\n");
        detail.push_str(&tail);
    }
    let why = format!("it {ended} while it ran {id}");
    (Err(ModelError::Crashed(detail)), Health::Broken(why))
}

/// The outcome when the worker sent a message that has no place in a request.
fn protocol_error(worker: &WorkerProcess, id: &str, message: &FromWorker) -> (Result<Bytes, ModelError>, Health) {
    let why = format!("it sent `{}` while it ran {id}", message.kind());
    let detail = format!(
        "worker {} (pid {}) broke the protocol: {why}",
        worker.worker_id(),
        worker.pid()
    );
    (Err(ModelError::Crashed(detail)), Health::Broken(why))
}

/// The error for a failure the worker reported: 422 is invalid input, another 4xx a refusal, and
/// anything else a model failure whose message and traceback go to the log only.
fn failure(detail: ErrorDetail) -> ModelError {
    let ErrorDetail {
        status,
        error_type,
        message,
        field,
        traceback,
    } = detail;
    match status {
        422 => ModelError::InvalidInput { field, message },
        400..=499 => ModelError::Refused {
            status,
            error_type,
            message,
            field,
        },
        _ => ModelError::Failed(match traceback {
            Some(traceback) if !traceback.is_empty() => format!("{message}\n{traceback}"),
            _ => message,
        }),
    }
}

fn to_bytes(output: &Value) -> Result<Bytes, ModelError> {
    serde_json::to_vec(output)
        .map(Bytes::from)
        .map_err(|err| ModelError::Failed(format!("the output cannot be encoded: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detail(status: u16) -> ErrorDetail {
        ErrorDetail {
            status,
            error_type: "not_found".into(),
            message: "no such thing".into(),
            field: Some("name".into()),
            traceback: Some("Traceback ...".into()),
        }
    }

    #[test]
    fn failures_map_by_status() {
        assert_eq!(
            failure(detail(422)),
            ModelError::InvalidInput {
                field: Some("name".into()),
                message: "no such thing".into()
            }
        );
        assert_eq!(
            failure(detail(404)),
            ModelError::Refused {
                status: 404,
                error_type: "not_found".into(),
                message: "no such thing".into(),
                field: Some("name".into())
            }
        );
        assert_eq!(
            failure(detail(500)),
            ModelError::Failed("no such thing\nTraceback ...".into())
        );
        assert_eq!(
            failure(ErrorDetail {
                traceback: None,
                ..detail(503)
            }),
            ModelError::Failed("no such thing".into())
        );
    }
}
