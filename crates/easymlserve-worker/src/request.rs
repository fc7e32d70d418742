//! One request (or one batch) on a leased worker: send `predict`, pass progress on, read the outcome
//! with short waits that check the cancellation flag in between, send `cancel` when it is set, and
//! map what the worker answered (or that it died) to a [`ModelError`].

use std::time::{Duration, Instant};

use bytes::Bytes;
use easymlserve_server::{Item, ModelError};
use serde_json::Value;

use crate::codec::CodecError;
use crate::pool::Health;
use crate::process::WorkerProcess;
use crate::protocol::{BatchEntry, ErrorDetail, FromWorker, ToWorker};

/// How long one read waits before the cancellation flag is checked again.
const POLL: Duration = Duration::from_millis(20);

/// What one read of the worker's answer gave.
enum Answer {
    /// An outcome for the request.
    Outcome(FromWorker),
    /// Nothing yet.
    Nothing,
}

/// Runs one request on `worker`. On cancellation, sends `cancel` and waits up to `grace` for the
/// worker to stop; a worker that does not is reported broken (to be killed and restarted).
pub(crate) fn predict(worker: &mut WorkerProcess, item: Item, grace: Duration) -> (Result<Bytes, ModelError>, Health) {
    let Item { request, ctx, .. } = item;
    let id = ctx.id().to_string();
    let deadline_ms = ctx
        .remaining()
        .map(|left| u64::try_from(left.as_millis()).unwrap_or(u64::MAX));
    let sent = worker.send(&ToWorker::Predict {
        id: id.clone(),
        input: request,
        deadline_ms,
    });
    match sent {
        Ok(()) => {}
        Err(CodecError::TooLarge(size)) => return (Err(too_large(size)), Health::Healthy),
        Err(err) => return crashed(worker, &id, &err),
    }
    loop {
        if ctx.is_cancelled() {
            return (Err(ModelError::Cancelled), cancel(worker, &id, grace));
        }
        let message = match next(worker, &id) {
            Ok(Answer::Nothing) => continue,
            Ok(Answer::Outcome(message)) => message,
            Err(err) => return crashed(worker, &id, &err),
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
pub(crate) fn predict_batch(
    worker: &mut WorkerProcess,
    items: Vec<Item>,
    batch_id: String,
    grace: Duration,
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
    let sent = worker.send(&ToWorker::PredictBatch {
        id: batch_id.clone(),
        inputs,
    });
    match sent {
        Ok(()) => {}
        Err(CodecError::TooLarge(size)) => return (all(Err(too_large(size))), Health::Healthy),
        Err(err) => {
            let (outcome, health) = crashed(worker, &batch_id, &err);
            return (all(outcome), health);
        }
    }
    loop {
        if contexts.iter().all(easymlserve_core::Context::is_cancelled) {
            return (all(Err(ModelError::Cancelled)), cancel(worker, &batch_id, grace));
        }
        let message = match next(worker, &batch_id) {
            Ok(Answer::Nothing) => continue,
            Ok(Answer::Outcome(message)) => message,
            Err(err) => {
                let (outcome, health) = crashed(worker, &batch_id, &err);
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

/// Reads one message about request `id`, waiting at most [`POLL`]; messages about other (earlier,
/// cancelled) requests are skipped.
fn next(worker: &mut WorkerProcess, id: &str) -> Result<Answer, CodecError> {
    match worker.recv(POLL)? {
        None => Ok(Answer::Nothing),
        Some(message) => match message.request_id() {
            Some(other) if other != id => {
                tracing::debug!(worker = worker.worker_id(), request_id = %other, kind = message.kind(), "skipping a late message");
                Ok(Answer::Nothing)
            }
            _ => Ok(Answer::Outcome(message)),
        },
    }
}

/// Sends `cancel` for `id` and waits up to `grace` for the worker to stop working on it.
fn cancel(worker: &mut WorkerProcess, id: &str, grace: Duration) -> Health {
    if let Err(err) = worker.send(&ToWorker::Cancel { id: id.to_owned() }) {
        return Health::Broken(format!("it could not be sent `cancel` for {id}: {err}"));
    }
    let until = Instant::now() + grace;
    while Instant::now() < until {
        match next(worker, id) {
            Ok(Answer::Outcome(
                FromWorker::Cancelled { .. }
                | FromWorker::Done { .. }
                | FromWorker::Failed { .. }
                | FromWorker::DoneBatch { .. },
            )) => return Health::Healthy,
            Ok(_) => {}
            Err(err) => return Health::Broken(format!("it failed after `cancel` for {id}: {err}")),
        }
    }
    Health::Broken(format!(
        "it did not stop {id} within {}s of `cancel`",
        grace.as_secs_f64()
    ))
}

/// A request that cannot go to the worker because its frame would be over 64 MiB (nothing was sent,
/// so the worker is fine).
fn too_large(size: usize) -> ModelError {
    ModelError::Failed(format!(
        "the request is {size} bytes as JSON, over the worker protocol's 64 MiB frame limit"
    ))
}

/// The request's outcome when the worker died or its connection broke.
fn crashed(worker: &mut WorkerProcess, id: &str, err: &CodecError) -> (Result<Bytes, ModelError>, Health) {
    // The end of the stream usually comes just before the exit status: give it a moment.
    let since = Instant::now();
    let mut status = worker.exit_status();
    while status.is_none() && since.elapsed() < Duration::from_millis(500) {
        std::thread::sleep(Duration::from_millis(10));
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
