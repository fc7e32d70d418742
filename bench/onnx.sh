#!/usr/bin/env bash
# Why this exists: the one command of the ONNX serving benchmark (issue 14, "Models with no code", item 6):
# `easymlserve serve <model>.onnx` on tract and on ONNX Runtime against FastAPI + Uvicorn + onnxruntime
# (bench/onnx/fastapi_app.py) for examples/onnx/models/{diabetes,digits_cnn}.onnx, driven by wrk on
# 127.0.0.1. Sets up what is missing (wrk from Debian; it does not make .venvs/onnx, it says how), builds the
# release CLI, then runs bench/onnx/compare.py; flags go to it (--help: --duration, --concurrency, --quick, ...).
# Writes bench/results/onnx-latest.md; about 6 minutes with the defaults on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq wrk
fi

if [ ! -x .venvs/onnx/bin/uvicorn ] || [ ! -x .venvs/onnx/bin/python ]; then
    echo "bench/onnx.sh: .venvs/onnx is missing (onnxruntime, FastAPI, Uvicorn for the baseline and ONNX Runtime's" >&2
    echo "library for easymlserve --onnx-runtime ort); make it with: scripts/test --setup-only" >&2
    exit 1
fi

# BENCH_NO_BUILD=1 skips the build (for example while another build holds the cores). The build is niced so
# that whoever else shares the machine keeps priority.
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
    nice -n 15 cargo build --release --quiet -p easymlserve-cli
fi

exec python3 bench/onnx/compare.py "$@"
