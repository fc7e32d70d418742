#!/usr/bin/env bash
# Why this exists: the one command of the side-by-side benchmark (issue #7): easymlserve's echo and
# load-forecasting services against the same services on FastAPI + Uvicorn + scikit-learn and against a
# bare axum echo, and the Python forecasting example on FastAPI against `easymlserve serve --python` with
# Python workers (`--only python` for that part alone), all driven by wrk on 127.0.0.1. Sets up what is missing (wrk from Debian, bench/.venv
# from PyPI with pinned versions, release builds), then runs bench/compare.py; flags go to it (--help).
# Writes bench/results/compare-latest.md; about 12 minutes with the defaults on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq wrk
fi

venv=bench/.venv
if [ ! -x "$venv/bin/python" ] || ! cmp -s bench/python/requirements.txt "$venv/requirements.installed"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r bench/python/requirements.txt
    cp bench/python/requirements.txt "$venv/requirements.installed"
fi

# BENCH_NO_BUILD=1 skips the build (for example while another build holds the cores).
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
    cargo build --release --quiet -p echo -p load-forecasting -p bare-echo -p easymlserve-cli
fi

exec python3 bench/compare.py "$@"
