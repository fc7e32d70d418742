//! Integration tests of the REST server over real HTTP on 127.0.0.1:0, one module per feature area.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod auth;
mod batching;
mod context;
mod errors;
mod execution;
mod faults;
mod inline;
mod jobs;
mod jobs_drain;
mod jobs_handback;
mod jobs_request;
mod lifecycle;
mod metrics;
mod oip;
mod routes;
mod safety;
mod util;
