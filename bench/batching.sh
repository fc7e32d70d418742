#!/usr/bin/env bash
# Dynamic batching benchmark (issue #7): the MLP of bench/batching-mlp at concurrency 32, batching off
# and on, medians of three runs. Installs wrk from Debian if missing. Extra flags go to bench/batching.py
# (--batch, --wait-ms, --concurrency, --seconds, --rounds, --workers).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq wrk
fi
cargo build --release -p batching-mlp --quiet
exec python3 bench/batching.py "$@"
