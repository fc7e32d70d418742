#!/usr/bin/env python3
"""Dynamic batching benchmark: the batching-mlp service under the same load with batching off and on.

Starts `target/release/batching-mlp` on 127.0.0.1 twice (--max-batch-size 1, then the batch size
given), checks that both give the same answer to one request, drives each with wrk at one
concurrency for a fixed time after a warm-up, several rounds, and prints the medians with the
targets of issue #7: batched requests/s at least 2x unbatched, batched p50 at most 2x unbatched.
Everything it starts is stopped on exit. Standard library only.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "batching-mlp")


def wait_ready(url, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health/ready", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{url} did not become ready within {timeout} s")


def post(url, body):
    request = urllib.request.Request(
        url + "/process", data=body.encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def to_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url, script, connections, seconds):
    """One wrk run; returns requests/s, p50 and p99 in ms, and the count of non-2xx answers."""
    out = subprocess.run(
        ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency",
         "-s", script, url + "/process"],
        check=True, capture_output=True, text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = {p: to_ms(v, u) for p, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)$", out, re.M)}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return rps, pct["50"], pct["99"], int(bad.group(1)) if bad else 0


def measure(batch, wait_ms, args, script, body):
    port = args.port
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, EASYMLSERVE_LOG="warn", BATCHING_MLP_HIDDEN=str(args.hidden))
    command = [BINARY, "--port", str(port), "--max-batch-size", str(batch),
               "--max-batch-wait-ms", str(wait_ms), "--queue-capacity", "512"]
    if args.workers:
        command += ["--workers", str(args.workers)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        wait_ready(url)
        answer = post(url, body)
        run_wrk(url, script, args.concurrency, args.warmup)
        rounds = [run_wrk(url, script, args.concurrency, args.seconds) for _ in range(args.rounds)]
        return answer, rounds
    finally:
        server.terminate()
        server.wait(timeout=20)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32, help="max batch size when batching is on")
    parser.add_argument("--wait-ms", type=float, default=2.0, help="max wait for a batch to fill")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=8, help="length of each measured run")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0, help="worker threads (0: the default)")
    parser.add_argument("--port", type=int, default=18390)
    parser.add_argument("--hidden", type=int, default=2048, help="units per hidden layer of the MLP")
    args = parser.parse_args()

    features = [round(((i * 31) % 97) / 97.0, 4) for i in range(784)]
    body = json.dumps({"features": features})
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n')
        lua.write(f"wrk.body = '{body}'\n")
    try:
        results = {}
        for label, batch in (("off (1)", 1), (f"on ({args.batch})", args.batch)):
            answer, rounds = measure(batch, args.wait_ms, args, lua.name, body)
            results[label] = (answer, rounds)
    finally:
        os.unlink(lua.name)

    (off_answer, off), (on_answer, on) = results.values()
    if off_answer["class"] != on_answer["class"] or any(
        abs(a - b) > 1e-3 * max(1.0, abs(a)) for a, b in zip(off_answer["scores"], on_answer["scores"])
    ):
        sys.exit(f"batched and unbatched answers differ: {off_answer} vs {on_answer}")

    def medians(rounds):
        return [statistics.median(r[i] for r in rounds) for i in range(3)] + [sum(r[3] for r in rounds)]

    print(f"batching-mlp 784-{args.hidden}-{args.hidden}-10, concurrency {args.concurrency}, {args.rounds} x {args.seconds} s, medians\n")
    print("| batching | requests/s | p50 ms | p99 ms | non-2xx |")
    print("|---|---:|---:|---:|---:|")
    rows = {}
    for label, (_, rounds) in results.items():
        rps, p50, p99, bad = rows[label] = medians(rounds)
        print(f"| {label} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {bad} |")
    (rps_off, p50_off, _, _), (rps_on, p50_on, _, _) = rows.values()
    speedup, latency = rps_on / rps_off, p50_on / p50_off
    print()
    print(f"- requests/s batched / unbatched: {speedup:.2f}x (target >= 2x): {'PASS' if speedup >= 2 else 'MISS'}")
    print(f"- p50 batched / unbatched: {latency:.2f}x (target <= 2x): {'PASS' if latency <= 2 else 'MISS'}")


if __name__ == "__main__":
    main()
