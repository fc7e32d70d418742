//! Integration tests of the load-forecasting example, one binary with a module per area: request
//! validation (every 422), the service over real HTTP with the shipped request files, the GUI's
//! request and response conversion, and the `load-forecasting` command itself. Models are tiny ones
//! trained from the shipped data at the start of a test; nothing is downloaded.

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod binary;
mod http;
mod progress;
mod ui;
mod util;
mod validation;
