#!/usr/bin/env bash
# The long version of the multi-replica tests (issue 16, item 5), whose figures go into RELIABILITY.md.
# Three load-forecasting replicas behind a real nginx with one redis-server as their job store, under a
# bounded load at concurrency 32 (plain /process, GUI /ui/submit and async jobs). `.ci/run` runs the same
# tests at their default size (3,000 requests, one round of restarts); this raises them:
#   - EASYMLSERVE_ROLLING_REQUESTS requests per test (default 20000),
#   - EASYMLSERVE_ROLLING_ROUNDS rounds of SIGTERM restarts of all three replicas (default 5).
# It prints each test's counts: requests per kind, failures, lost jobs, nginx retries, restart times.
# Needs the Debian packages nginx and redis-server (scripts/test --setup-only installs them). Everything
# runs on 127.0.0.1 and the tests stop what they started.
set -euo pipefail
cd "$(dirname "$0")/.."

export EASYMLSERVE_ROLLING_REQUESTS="${EASYMLSERVE_ROLLING_REQUESTS:-20000}"
export EASYMLSERVE_ROLLING_ROUNDS="${EASYMLSERVE_ROLLING_ROUNDS:-5}"

echo "== rolling restart and kill -9: $EASYMLSERVE_ROLLING_REQUESTS requests, $EASYMLSERVE_ROLLING_ROUNDS rounds"
# Plain `cargo test`, one test at a time: the long run outlasts nextest's per-test time limit.
cargo test --locked -p load-forecasting --test rolling -- --nocapture --test-threads 1
