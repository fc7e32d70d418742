#!/usr/bin/env bash
# The long part of the reliability suite (issue #8), whose figures go into RELIABILITY.md. `.ci/run`
# runs the same tests at their small default sizes; this raises them:
#   - every proptest property with PROPTEST_CASES cases (default 20000),
#   - the fault and load test with EASYMLSERVE_FAULT_REQUESTS requests at concurrency 64 (default 20000),
#   - schemathesis against the three example services with SCHEMATHESIS_EXAMPLES examples (default 1000).
# Everything runs on 127.0.0.1 and stops what it started. Takes about 20 to 30 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

export PROPTEST_CASES="${PROPTEST_CASES:-20000}"
export EASYMLSERVE_FAULT_REQUESTS="${EASYMLSERVE_FAULT_REQUESTS:-20000}"
export SCHEMATHESIS_EXAMPLES="${SCHEMATHESIS_EXAMPLES:-1000}"

echo "== proptest: $PROPTEST_CASES cases per property"
cargo nextest run --locked --all-features \
    -p easymlserve-ui -p easymlserve-web -p cell-segmentation \
    -E 'binary(fuzz) | test(arbitrary_multipart_forms)' --no-fail-fast

echo "== fault and load: $EASYMLSERVE_FAULT_REQUESTS requests at concurrency 64"
# Plain `cargo test`: the long run outlasts nextest's per-test time limit.
cargo test --locked -p easymlserve-server --test api faults:: -- --nocapture

echo "== schemathesis: $SCHEMATHESIS_EXAMPLES examples per operation"
reliability/schemathesis.sh
