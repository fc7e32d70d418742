//! All integration tests of the example in one binary: each test binary links candle, the server and
//! the GUIs, so one link instead of six saves minutes and gigabytes in CI.

mod binary;
mod browser;
#[cfg(feature = "desktop")]
mod desktop;
mod examples;
mod fuzz;
mod onnx;
mod progress;
mod service;
mod ui;
mod util;
