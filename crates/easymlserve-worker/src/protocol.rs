//! The messages of the Python worker protocol (docs/worker-protocol.md), version [`PROTO_VERSION`]: one
//! enum for each direction, one variant per message kind, tagged by `"type"` in snake_case. Unknown
//! fields are ignored; an unknown `type` fails to parse, which the supervisor treats as a protocol error.

use easymlserve_core::Capabilities;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The protocol version this crate speaks; the worker names its own in `hello`.
pub const PROTO_VERSION: u32 = 1;

/// A message from the server to a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToWorker {
    /// The answer to `hello`: which worker this is; the worker then loads the model.
    Init {
        /// The worker's number, from 0.
        worker_id: usize,
    },
    /// Answer one request.
    Predict {
        /// The request id.
        id: String,
        /// The request body; it passed the request schema.
        input: Value,
        /// Milliseconds left before the request times out; `None` without a deadline.
        deadline_ms: Option<u64>,
    },
    /// Answer several requests in one call (only when the worker said `capabilities.batching`).
    PredictBatch {
        /// The batch id.
        id: String,
        /// The request bodies, in order.
        inputs: Vec<Value>,
    },
    /// Stop working on a request: the model sees `ctx.cancelled`.
    Cancel {
        /// The request (or batch) id.
        id: String,
    },
    /// Are you there? Answered by `pong`.
    Ping,
    /// Exit now: answered by `bye`, then the worker exits 0.
    Shutdown,
}

/// Who the service is, as the worker reports it in `ready`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// The service's name.
    #[serde(default)]
    pub name: String,
    /// The service's version.
    #[serde(default)]
    pub version: String,
    /// What the service does.
    #[serde(default)]
    pub description: String,
}

/// Why a request failed, as the worker reports it (in `failed` and in a batch entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// The HTTP status the model chose: 422 for invalid input, 500 for a failure, or another.
    pub status: u16,
    /// A snake_case identifier: `invalid_input`, `model_error`, ...
    #[serde(default = "model_error")]
    pub error_type: String,
    /// The message for the caller.
    #[serde(default)]
    pub message: String,
    /// The field the model named, such as `time[3]`.
    #[serde(default)]
    pub field: Option<String>,
    /// The Python traceback, for the log only.
    #[serde(default)]
    pub traceback: Option<String>,
}

fn model_error() -> String {
    "model_error".to_owned()
}

/// One input's outcome in a `done_batch`: `{"output": ...}` or `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchEntry {
    /// The response to this input.
    Output(Value),
    /// Why this input failed.
    Error(ErrorDetail),
}

/// A message from a worker to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FromWorker {
    /// The worker's first message, right after it connected.
    Hello {
        /// The protocol version the worker speaks.
        proto: u32,
        /// The worker's process id.
        pid: u32,
        /// The Python version, such as `3.11.7`.
        python: String,
        /// The version of the `easymlserve` Python SDK.
        sdk_version: String,
    },
    /// The model is loaded: the worker takes requests.
    Ready {
        /// Name, version and description.
        info: Info,
        /// JSON Schema of the request body.
        request_schema: Value,
        /// JSON Schema of the response body.
        response_schema: Value,
        /// An example request body, if the service gives one.
        #[serde(default)]
        example_request: Option<Value>,
        /// What the model can do beyond one request at a time.
        #[serde(default)]
        capabilities: Capabilities,
    },
    /// Importing the service or `load_model()` raised; the worker exits.
    SetupFailed {
        /// The last line of the traceback.
        error: String,
        /// The whole traceback.
        #[serde(default)]
        traceback: String,
    },
    /// How far the model is with a request.
    Progress {
        /// The request id.
        id: String,
        /// From 0 to 1, when the model knows.
        #[serde(default)]
        fraction: Option<f64>,
        /// What the model is doing.
        #[serde(default)]
        message: String,
    },
    /// The response to a request.
    Done {
        /// The request id.
        id: String,
        /// The response body.
        output: Value,
    },
    /// The request (or the whole batch) failed.
    Failed {
        /// The request or batch id.
        id: String,
        /// The HTTP status the model chose.
        status: u16,
        /// A snake_case identifier of the failure.
        #[serde(default = "model_error")]
        error_type: String,
        /// The message for the caller.
        #[serde(default)]
        message: String,
        /// The field the model named.
        #[serde(default)]
        field: Option<String>,
        /// The Python traceback, for the log only.
        #[serde(default)]
        traceback: Option<String>,
    },
    /// The model stopped after a `cancel`.
    Cancelled {
        /// The request or batch id.
        id: String,
    },
    /// The responses to a `predict_batch`, one entry per input in order.
    DoneBatch {
        /// The batch id.
        id: String,
        /// One outcome per input.
        outputs: Vec<BatchEntry>,
    },
    /// The answer to `ping`.
    Pong,
    /// The answer to `shutdown`; the worker exits next.
    Bye,
}

impl FromWorker {
    /// The request or batch id the message is about, if it is about one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Progress { id, .. }
            | Self::Done { id, .. }
            | Self::Failed { id, .. }
            | Self::Cancelled { id }
            | Self::DoneBatch { id, .. } => Some(id),
            Self::Hello { .. } | Self::Ready { .. } | Self::SetupFailed { .. } | Self::Pong | Self::Bye => None,
        }
    }

    /// The message's `type`, for log lines.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Hello { .. } => "hello",
            Self::Ready { .. } => "ready",
            Self::SetupFailed { .. } => "setup_failed",
            Self::Progress { .. } => "progress",
            Self::Done { .. } => "done",
            Self::Failed { .. } => "failed",
            Self::Cancelled { .. } => "cancelled",
            Self::DoneBatch { .. } => "done_batch",
            Self::Pong => "pong",
            Self::Bye => "bye",
        }
    }
}

#[cfg(test)]
mod tests {
    //! Snapshots of every message's JSON, as plain JSON literals (no snapshot crate): a change of the
    //! wire format shows up here, next to the protocol document it must match.

    #![allow(clippy::unwrap_used)]

    use serde_json::json;

    use super::*;

    fn to_json<T: Serialize>(message: &T) -> Value {
        serde_json::to_value(message).unwrap()
    }

    /// Serializes `message`, compares it with `expected`, and parses `expected` back into `message`.
    fn round_trip<T>(message: &T, expected: Value)
    where
        T: Serialize + for<'de> Deserialize<'de> + PartialEq + std::fmt::Debug,
    {
        assert_eq!(to_json(message), expected);
        let parsed: T = serde_json::from_value(expected).unwrap();
        assert_eq!(&parsed, message);
    }

    #[test]
    fn server_to_worker_messages() {
        round_trip(
            &ToWorker::Init { worker_id: 0 },
            json!({"type": "init", "worker_id": 0}),
        );
        round_trip(
            &ToWorker::Predict {
                id: "req-1a".into(),
                input: json!({"x": 1}),
                deadline_ms: Some(59000),
            },
            json!({"type": "predict", "id": "req-1a", "input": {"x": 1}, "deadline_ms": 59000}),
        );
        round_trip(
            &ToWorker::Predict {
                id: "req-2".into(),
                input: json!({}),
                deadline_ms: None,
            },
            json!({"type": "predict", "id": "req-2", "input": {}, "deadline_ms": null}),
        );
        round_trip(
            &ToWorker::PredictBatch {
                id: "batch-1".into(),
                inputs: vec![json!({"x": 1}), json!({"x": 2})],
            },
            json!({"type": "predict_batch", "id": "batch-1", "inputs": [{"x": 1}, {"x": 2}]}),
        );
        round_trip(
            &ToWorker::Cancel { id: "req-1a".into() },
            json!({"type": "cancel", "id": "req-1a"}),
        );
        round_trip(&ToWorker::Ping, json!({"type": "ping"}));
        round_trip(&ToWorker::Shutdown, json!({"type": "shutdown"}));
    }

    #[test]
    fn worker_to_server_start_up_messages() {
        round_trip(
            &FromWorker::Hello {
                proto: 1,
                pid: 1234,
                python: "3.11.7".into(),
                sdk_version: "0.1.0".into(),
            },
            json!({"type": "hello", "proto": 1, "pid": 1234, "python": "3.11.7", "sdk_version": "0.1.0"}),
        );
        round_trip(
            &FromWorker::Ready {
                info: Info {
                    name: "Echo".into(),
                    version: "1.0".into(),
                    description: "Says it back".into(),
                },
                request_schema: json!({"type": "object"}),
                response_schema: json!({"type": "object"}),
                example_request: Some(json!({"text": "hi"})),
                capabilities: Capabilities {
                    batching: true,
                    progress: false,
                    cancellation: true,
                },
            },
            json!({
                "type": "ready",
                "info": {"name": "Echo", "version": "1.0", "description": "Says it back"},
                "request_schema": {"type": "object"},
                "response_schema": {"type": "object"},
                "example_request": {"text": "hi"},
                "capabilities": {"batching": true, "progress": false, "cancellation": true}
            }),
        );
        round_trip(
            &FromWorker::SetupFailed {
                error: "RuntimeError: no weights".into(),
                traceback: "Traceback (most recent call last):\n...\nRuntimeError: no weights".into(),
            },
            json!({
                "type": "setup_failed",
                "error": "RuntimeError: no weights",
                "traceback": "Traceback (most recent call last):\n...\nRuntimeError: no weights"
            }),
        );
    }

    #[test]
    fn worker_to_server_request_messages() {
        round_trip(
            &FromWorker::Progress {
                id: "req-1a".into(),
                fraction: Some(0.5),
                message: "half way".into(),
            },
            json!({"type": "progress", "id": "req-1a", "fraction": 0.5, "message": "half way"}),
        );
        round_trip(
            &FromWorker::Done {
                id: "req-1a".into(),
                output: json!({"y": [1, 2]}),
            },
            json!({"type": "done", "id": "req-1a", "output": {"y": [1, 2]}}),
        );
        round_trip(
            &FromWorker::Failed {
                id: "req-1a".into(),
                status: 422,
                error_type: "invalid_input".into(),
                message: "time[3] is in the future".into(),
                field: Some("time[3]".into()),
                traceback: None,
            },
            json!({
                "type": "failed", "id": "req-1a", "status": 422, "error_type": "invalid_input",
                "message": "time[3] is in the future", "field": "time[3]", "traceback": null
            }),
        );
        round_trip(
            &FromWorker::Cancelled { id: "req-1a".into() },
            json!({"type": "cancelled", "id": "req-1a"}),
        );
        round_trip(
            &FromWorker::DoneBatch {
                id: "batch-1".into(),
                outputs: vec![
                    BatchEntry::Output(json!({"y": 1})),
                    BatchEntry::Error(ErrorDetail {
                        status: 500,
                        error_type: "model_error".into(),
                        message: "the model failed".into(),
                        field: None,
                        traceback: Some("Traceback ...".into()),
                    }),
                ],
            },
            json!({
                "type": "done_batch", "id": "batch-1", "outputs": [
                    {"output": {"y": 1}},
                    {"error": {"status": 500, "error_type": "model_error", "message": "the model failed",
                               "field": null, "traceback": "Traceback ..."}}
                ]
            }),
        );
        round_trip(&FromWorker::Pong, json!({"type": "pong"}));
        round_trip(&FromWorker::Bye, json!({"type": "bye"}));
    }

    #[test]
    fn unknown_fields_are_ignored_and_optional_ones_default() {
        let parsed: FromWorker = serde_json::from_value(json!({
            "type": "ready", "info": {"name": "X"}, "request_schema": {}, "response_schema": {},
            "future_field": 1
        }))
        .unwrap();
        let FromWorker::Ready {
            info,
            example_request,
            capabilities,
            ..
        } = parsed
        else {
            panic!("not a ready message");
        };
        assert_eq!(info.name, "X");
        assert_eq!(example_request, None);
        assert_eq!(capabilities, Capabilities::default());
    }

    #[test]
    fn an_unknown_type_is_an_error() {
        assert!(serde_json::from_value::<FromWorker>(json!({"type": "reboot"})).is_err());
        assert!(serde_json::from_value::<FromWorker>(json!({"id": "x"})).is_err());
    }
}
