#!/bin/sh
# A stand-in interpreter for tests: whatever it is asked to run, it runs a worker that speaks a future
# protocol version (it needs no pydantic, only the standard library).
exec python3 "$(dirname "$0")/future_worker.py"
