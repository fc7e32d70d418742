#!/usr/bin/env bash
# Benchmark of `POST /process` on the echo service: requests/s and latency at concurrency 1, 16 and 64,
# measured with wrk against a release build on 127.0.0.1. Usage: bench/echo.sh [seconds-per-run]
# Installs wrk from Debian if missing. Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
port="${BENCH_PORT:-18080}"

if ! command -v wrk >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq wrk
fi
cargo build --release -p echo --quiet

# Access logs off for the measurement: one log line per request would measure the terminal.
EASYMLSERVE_LOG=warn EASYMLSERVE_PORT="$port" target/release/echo &
server=$!
trap 'kill -TERM $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 200); do
    curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null && break
    sleep 0.05
done

script=$(mktemp --suffix=.lua)
cat >"$script" <<'LUA'
wrk.method = "POST"
wrk.body = '{"text": "hello ", "repeat": 3}'
wrk.headers["Content-Type"] = "application/json"
LUA

# Check the answer once, so a broken server cannot produce a fast but meaningless figure.
answer=$(curl -sf "http://127.0.0.1:$port/process" -H 'content-type: application/json' -d '{"text": "hello ", "repeat": 3}')
[ "$answer" = '{"text":"hello hello hello "}' ] || { echo "unexpected answer: $answer" >&2; exit 1; }

wrk -t1 -c16 -d2s -s "$script" "http://127.0.0.1:$port/process" >/dev/null  # warm-up
echo "| concurrency | requests/s | p50 | p99 | non-2xx |"
echo "|---:|---:|---:|---:|---:|"
for c in 1 16 64; do
    threads=$(( c < 2 ? 1 : 2 ))
    out=$(wrk -t"$threads" -c"$c" -d"${duration}s" --latency -s "$script" "http://127.0.0.1:$port/process")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    echo "| $c | $rps | $p50 | $p99 | ${errors:-0} |"
done
rm -f "$script"
