"""Why this exists: the wrk side of bench/compare.py, kept apart from the server handling: the Lua scripts
that POST a body and print exact figures as one JSON line, and the percentile of the windowed runs."""

import json
import math
from pathlib import Path

WRK_BODY = """-- Written by bench/compare.py: POST the body file to /process.
local file = assert(io.open({body_path}, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
"""

# Fixed runs (echo): wrk's own figures, printed exactly as one JSON line.
WRK_SUMMARY = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {{"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p99_us": %d}}\\n', summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
"""

# Windowed runs (forecasting): one wrk thread per connection, so each thread's request() and response()
# alternate and give that request's latency; only responses that complete after the warm-up, within the
# measured window, are kept. The warm-up is the start of the same run on the same connections, so the
# window sees the server in its steady state (a slow server that shares its CPU among many requests
# answers none at all for the first seconds of a run, which a fresh wrk run would count against it).
WRK_WINDOW = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct {{ long tv_sec; long tv_nsec; }} bench_timespec;
int clock_gettime(int clock, bench_timespec *ts);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local WARMUP_US, WINDOW_US = {warmup_us}, {window_us}
local threads = {{}}
function setup(thread) table.insert(threads, thread) end

-- Globals of each thread (read back by done() with thread:get).
function init(args) started = now_us(); sent = 0; latencies = {{}}; failed = 0 end

function request()
  sent = now_us()
  return wrk.format()
end

function response(status, headers, body)
  local now = now_us()
  local at = now - started
  if at >= WARMUP_US and at < WARMUP_US + WINDOW_US then
    latencies[#latencies + 1] = string.format("%.0f", now - sent)
    if status > 399 then failed = failed + 1 end
  end
end

function done(summary, latency, requests)
  local all, failed_total = {{}}, 0
  for _, thread in ipairs(threads) do
    for _, v in ipairs(thread:get("latencies")) do all[#all + 1] = v end
    failed_total = failed_total + thread:get("failed")
  end
  local e = summary.errors
  io.write('BENCH {{"window_us": ' .. WINDOW_US .. ', "total_requests": ' .. summary.requests ..
    ', "non_2xx": ' .. failed_total .. ', "socket_errors": ' ..
    (e.connect + e.read + e.write + e.timeout) .. ', "latencies_us": [' .. table.concat(all, ",") .. ']}}\\n')
end
"""


def wrk_script(folder: Path, name: str, body: bytes, window: tuple[int, int] | None = None) -> Path:
    """Writes the body and the Lua script of a service into `folder`: fixed runs, or windowed runs with
    (warm-up, window) in seconds."""
    body_path = folder / f"{name}.body.json"
    body_path.write_bytes(body)
    text = WRK_BODY.format(body_path=json.dumps(str(body_path)))
    if window is None:
        text += WRK_SUMMARY.format()
    else:
        text += WRK_WINDOW.format(warmup_us=window[0] * 1_000_000, window_us=window[1] * 1_000_000)
    script = folder / f"{name}.lua"
    script.write_text(text)
    return script


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]
