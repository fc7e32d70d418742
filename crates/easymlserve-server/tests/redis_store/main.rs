//! The Redis job store against a real `redis-server` (Debian package `redis-server`, which scripts/test
//! installs): bounds, events, leases and cancel, and Redis going away and coming back mid-test.
//! Each test starts its own server on a free port, with no persistence, killed when the test ends (`setup.rs`).

#![allow(clippy::unwrap_used)] // a test fails loudly on any unexpected error

mod basics;
mod bounds;
mod leases;
mod setup;
mod unavailability;
