//! The easymlserve contract: what a model author implements, and the shared wire types.
//!
//! This crate has no async runtime, HTTP, GUI, image or CSV dependency (only serde, serde_json, schemars
//! and thiserror), so a model crate compiles little. Implement [`Service`] for your model; the `easymlserve`
//! crate serves it. The UI contract the web and desktop GUIs run (components, values, plots, images and
//! tables) is the `easymlserve-ui` crate.

mod caller;
mod context;
mod copies;
mod error;
mod example;
mod jobs;
mod schema;
mod service;
mod spec;

pub use caller::{BoxFuture, CallError, ServiceCaller};
pub use context::{CancelFlag, Context, Progress, ProgressSink, RequestId};
pub use copies::ModelCopies;
pub use error::{ErrorBody, ServiceError};
pub use example::example_from_schema;
pub use jobs::{JobCaller, JobEvent, JobEventKind, JobFailure, JobState, JobStatus, ProgressReport};
pub use schema::{main_type, resolve, schema_for, schema_settings};
pub use service::{Service, ServiceInfo, panic_message};
pub use spec::{Capabilities, ImageLayout, ServiceSpec, TensorSignature, TensorSpec};

/// Re-exported so user crates derive `JsonSchema` without naming the version.
pub use schemars;
