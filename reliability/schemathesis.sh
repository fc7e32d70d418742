#!/usr/bin/env bash
# Why this exists: property-based fuzzing of the REST contract (issue #8). For each example service it
# starts the release binary on a free port of 127.0.0.1, waits for /health/ready, lets Schemathesis
# generate requests from the service's own /openapi.json (schema examples, coverage cases, then
# Hypothesis fuzzing, valid and invalid) and checks every answer against that document, then stops it.
# `echo-auth` is the echo service again with an API key, to test the 401 answers and `ignored_auth`.
#
# Settings (environment):
#   SCHEMATHESIS_EXAMPLES  test cases per operation in the fuzzing phase (default 50; the long run: 1000)
#   SCHEMATHESIS_SERVICES  which runs, of: echo echo-auth load-forecasting cell-segmentation (default all)
#   SCHEMATHESIS_SEED      Hypothesis seed, to repeat a run (default: random, printed by Schemathesis)
#   SCHEMATHESIS_NO_BUILD  1 skips `cargo build --release` (for example while another build holds the cores)
#
# Prints per service the operations tested, the test cases, the requests sent (the server's own count),
# the model failures and the failures found; reports and server logs go to reliability/reports/.
# Exits non-zero when any check failed for any service.
set -euo pipefail
cd "$(dirname "$0")/.."

examples=${SCHEMATHESIS_EXAMPLES:-50}
services=${SCHEMATHESIS_SERVICES:-echo echo-auth load-forecasting cell-segmentation}
helper=(python3 reliability/schemathesis_summary.py)
reports=reliability/reports

# Every check that applies to a stateless service; see reliability/schemathesis_hooks.py for the two
# that replace `not_a_server_error` and `positive_data_acceptance`. Left out: `use_after_free`,
# `ensure_resource_availability` and `object_level_authorization`, which need resources that a
# request creates and another reads, and which no easymlserve route has.
checks=(
    not_a_server_error_except_model
    status_code_conformance
    content_type_conformance
    response_headers_conformance
    response_schema_conformance
    negative_data_rejection
    positive_data_acceptance_except_model
    missing_required_header
    unsupported_method
    allow_header_conformance
    ignored_auth
)

venv=reliability/.venv
if [ ! -x "$venv/bin/schemathesis" ] || ! cmp -s reliability/requirements.txt "$venv/requirements.installed"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r reliability/requirements.txt
    cp reliability/requirements.txt "$venv/requirements.installed"
fi

# Neither build nor add load while a benchmark measures (wrk, or bench/compare.py between two wrk
# runs): wait up to 15 minutes for it to finish.
for _ in $(seq 30); do
    pgrep -x wrk >/dev/null || pgrep -f 'bench/(compare|batching)\.py' >/dev/null || break
    echo "a benchmark is running; waiting 30 s"
    sleep 30
done

if [ "${SCHEMATHESIS_NO_BUILD:-0}" != 1 ]; then
    cargo build --release --quiet -p echo -p load-forecasting -p cell-segmentation
fi

server_pid=""
stop_server() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid"
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

# fuzz NAME READY_SECONDS API_KEY COMMAND...: one service, from start to summary (the caller stops the
# server if this returns early); its files go to reliability/reports/NAME. Called in an `||` list, so
# `set -e` is off in here: every step that matters checks its own status.
fuzz() {
    local name=$1 ready_seconds=$2 key=$3
    shift 3
    local dir=$reports/$name port
    rm -rf "$dir" && mkdir -p "$dir"
    port=$("${helper[@]}" free-port)
    local url=http://127.0.0.1:$port
    echo "=== $name: $* --port $port"
    if [ -n "$key" ]; then
        EASYMLSERVE_API_KEYS=$key "$@" --host 127.0.0.1 --port "$port" >"$dir/server.log" 2>&1 &
    else
        env -u EASYMLSERVE_API_KEYS -u EASYMLSERVE_API_KEYS_FILE \
            "$@" --host 127.0.0.1 --port "$port" >"$dir/server.log" 2>&1 &
    fi
    server_pid=$!
    if ! "${helper[@]}" wait-ready "$url" "$server_pid" "$ready_seconds"; then
        tail -n 20 "$dir/server.log"
        return 1
    fi
    "${helper[@]}" scrape "$url" "$dir/metrics-before.txt" $key || return 1

    local config=() seed=() status=0
    if [ -n "$key" ]; then
        config=(--config-file reliability/schemathesis-auth.toml)
    fi
    if [ -n "${SCHEMATHESIS_SEED:-}" ]; then
        seed=(--seed "$SCHEMATHESIS_SEED")
    fi
    local checklist
    checklist=$(IFS=,; echo "${checks[*]}")
    SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=reliability SCHEMATHESIS_API_KEY=$key \
        "$venv/bin/schemathesis" "${config[@]}" run "$url/openapi.json" \
        --checks "$checklist" \
        --max-examples "$examples" \
        --continue-on-failure \
        --request-timeout 120 \
        --generation-database none \
        --report junit,ndjson --report-dir "$dir" \
        --no-color "${seed[@]}" >"$dir/schemathesis.log" 2>&1 || status=$?
    sed -n '/^=* FAILURES =*$/,/^=* SUMMARY =*$/p' "$dir/schemathesis.log" | head -n 200

    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "!!! $name: the server died during the run; see $dir/server.log"
        tail -n 20 "$dir/server.log"
        server_pid=""
        return 1
    fi
    "${helper[@]}" scrape "$url" "$dir/metrics-after.txt" $key || return 1
    stop_server
    "${helper[@]}" summarize "$name" "$dir" || status=1
    if [ "$status" != 0 ]; then
        echo "   FAILED; the full output is in $dir/schemathesis.log, the server's in $dir/server.log"
    fi
    return "$status"
}

run() {
    case $1 in
        echo) fuzz echo 120 "" target/release/echo ;;
        echo-auth) fuzz echo-auth 120 "fuzz-$RANDOM$RANDOM" target/release/echo ;;
        # Trains the three models first when examples/load-forecasting/models has none: minutes.
        load-forecasting) fuzz load-forecasting 900 "" target/release/load-forecasting serve ;;
        cell-segmentation) fuzz cell-segmentation 120 "" target/release/cell-segmentation ;;
        *) echo "unknown service: $1" >&2 && return 2 ;;
    esac
}

started=$SECONDS
failed=()
summaries=()
for service in $services; do
    run "$service" || failed+=("$service")
    stop_server
    summaries+=("$reports/$service/summary.json")
done

echo
echo "Schemathesis $("$venv/bin/schemathesis" --version | awk '{print $NF}'), $examples examples per operation, $((SECONDS - started)) s"
"${helper[@]}" table "${summaries[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
echo "no failures"
