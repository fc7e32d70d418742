#!/usr/bin/env python3
"""Helpers of reliability/schemathesis.sh, standard library only (runs outside the virtualenv).

    free-port                      print a TCP port that is free on 127.0.0.1
    wait-ready URL PID SECONDS     poll URL/health/ready until 200; fail if PID dies or time runs out
    scrape URL OUT [KEY]           save URL/metrics (the server's Prometheus counters) to OUT
    summarize NAME DIR             print one service's figures from the files the script left in DIR
    table FILE...                  print the closing table from the summaries' JSON lines

The figures: operations tested and failures come from Schemathesis' JUnit report, test cases from its
console summary, requests sent from the server's own `easymlserve_requests_total` counter (before and
after the run), so every request counts, the ones Hypothesis sends while shrinking included. Every
failing check recorded in the NDJSON report is grouped by cause (check, status, `error_type`, `field`).
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from base64 import b64decode
from collections import Counter
from pathlib import Path

REQUESTS = re.compile(r'^easymlserve_requests_total\{method="([^"]*)",route="([^"]*)",status="(\d+)"\} (\d+)$')
MODEL_FAILURES = re.compile(r'^easymlserve_model_failures_total\{kind="([^"]*)"\} (\d+)$')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_ready(url: str, pid: int, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    last = "no answer yet"
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            print(f"the server (pid {pid}) exited before it was ready", file=sys.stderr)
            return 1
        try:
            with urllib.request.urlopen(f"{url}/health/ready", timeout=5) as response:
                if response.status == 200:
                    return 0
        except urllib.error.HTTPError as err:
            last = f"{err.code}: {err.read(300).decode(errors='replace')}"
            if b'"failed"' in last.encode():
                print(f"the model failed to load: {last}", file=sys.stderr)
                return 1
        except OSError as err:
            last = str(err)
        time.sleep(1)
    print(f"not ready after {seconds:.0f} s (last: {last})", file=sys.stderr)
    return 1


def scrape(url: str, out: str, key: str | None) -> int:
    request = urllib.request.Request(f"{url}/metrics")
    if key:
        request.add_header("x-api-key", key)
    with urllib.request.urlopen(request, timeout=30) as response:
        Path(out).write_bytes(response.read())
    return 0


def read_metrics(path: Path) -> tuple[Counter, Counter]:
    """Requests by (method, route, status) and model failures by kind."""
    requests: Counter = Counter()
    failures: Counter = Counter()
    for line in path.read_text().splitlines():
        if m := REQUESTS.match(line):
            requests[(m[1], m[2], int(m[3]))] += int(m[4])
        elif m := MODEL_FAILURES.match(line):
            failures[m[1]] += int(m[2])
    return requests, failures


def junit_figures(path: Path) -> dict:
    suite = ET.parse(path).getroot()
    cases = suite.findall(".//testcase")
    failed = [case.get("name") for case in cases if case.find("failure") is not None or case.find("error") is not None]
    errors = sum(1 for case in cases if case.find("error") is not None)
    skipped = sum(1 for case in cases if case.find("skipped") is not None)
    return {
        "operations": len(cases) - skipped,
        "operations_failed": failed,
        "errors": errors,
        "failures": int(suite.get("failures", 0)) + int(suite.get("errors", 0)),
    }


def console_figures(path: Path) -> dict:
    text = path.read_text(errors="replace")
    figures = {"test_cases": None, "unique_failures": 0}
    if m := re.search(r"^\s*(\d+) generated", text, re.MULTILINE):
        figures["test_cases"] = int(m[1])
    if m := re.search(r"found (\d+) unique failures?", text):
        figures["unique_failures"] = int(m[1])
    return figures


def body_fields(interaction: dict) -> tuple[str, str]:
    """The `error_type` and `field` of a recorded response body, when it is an error body."""
    content = ((interaction or {}).get("response") or {}).get("content") or {}
    raw = content.get("$base64")
    try:
        body = json.loads(b64decode(raw) if raw is not None else content.get("string", ""))
    except (ValueError, TypeError):
        return "-", "-"
    if not isinstance(body, dict):
        return "-", "-"
    return str(body.get("error_type", "-")), str(body.get("field", "-"))


def recorded(ndjson: Path) -> tuple[Counter, Counter]:
    """From the recorded cases: the `error_type` of every error answer, and the failing checks by
    (operation, check, status, error_type, field)."""
    error_types: Counter = Counter()
    causes: Counter = Counter()
    for line in ndjson.read_text(errors="replace").splitlines():
        event = json.loads(line).get("ScenarioFinished")
        if not event:
            continue
        recorder = event.get("recorder") or {}
        interactions = recorder.get("interactions") or {}
        for case_id, checks in (recorder.get("checks") or {}).items():
            interaction = interactions.get(case_id) or {}
            status = ((interaction.get("response") or {}).get("status_code")) or "-"
            error_type, field = body_fields(interaction)
            if error_type != "-":
                error_types[error_type] += 1
            for check in checks:
                if check.get("status") == "failure":
                    causes[(recorder.get("label", "?"), check["name"], status, error_type, field)] += 1
    return error_types, causes


def summarize(name: str, directory: str) -> int:
    root = Path(directory)
    before, _ = read_metrics(root / "metrics-before.txt")
    after, model_after = read_metrics(root / "metrics-after.txt")
    _, model_before = read_metrics(root / "metrics-before.txt")
    # The scrape before the run is counted by the server too; the one after is not (it counts itself
    # only once it has answered).
    sent = after - before
    sent[("GET", "/metrics", 200)] -= 1
    sent = +sent
    by_status = Counter()
    for (_, _, status), count in sent.items():
        by_status[status] += count
    model = +(model_after - model_before)
    junit = junit_figures(next(root.glob("junit*.xml")))
    console = console_figures(root / "schemathesis.log")
    ndjson = next(root.glob("*.ndjson"), None)
    error_types, causes = recorded(ndjson) if ndjson else (Counter(), Counter())
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(by_status.items()))
    print(f"== {name}")
    print(f"   operations tested:   {junit['operations']}")
    print(f"   test cases:          {console['test_cases']}")
    print(f"   requests sent:       {sum(by_status.values())} ({statuses})")
    kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(model.items()))
    answers = ", ".join(f"{kind}: {count}" for kind, count in error_types.most_common())
    print(f"   error answers:       {answers or 'none'} (recorded cases)")
    print(f"   model failures:      {sum(model.values())}{f' ({kinds})' if kinds else ''}")
    # A panic hook prints every panic; the model's are caught on the worker threads and answered 500.
    panics = re.findall(r"thread '([^']*)' panicked at", (root / "server.log").read_text(errors="replace"))
    server_panics = sum(1 for thread in panics if not thread.startswith("easymlserve-worker"))
    print(f"   server panics:       {server_panics} (and {len(panics) - server_panics} in the model)")
    print(f"   failures:            {console['unique_failures']} unique, in {len(junit['operations_failed'])} operation(s)")
    if junit["errors"]:
        print(f"   errors:              {junit['errors']} operation(s) could not be tested (see schemathesis.log)")
    for (operation, check, status, error_type, field), count in sorted(causes.items(), key=str):
        print(f"     - {operation}: {check} on {status} error_type={error_type} field={field} ({count} cases)")
    record = {
        "service": name,
        "operations": junit["operations"],
        "test_cases": console["test_cases"],
        "requests": sum(by_status.values()),
        "model_failures": sum(model.values()),
        "failures": max(console["unique_failures"], junit["failures"]) + server_panics,
    }
    (root / "summary.json").write_text(json.dumps(record) + "\n")
    return 1 if server_panics else 0


def table(files: list[str]) -> int:
    rows = [json.loads(Path(f).read_text()) for f in files if Path(f).exists()]
    print(f"{'service':<20} {'operations':>10} {'test cases':>10} {'requests':>9} {'model failures':>14} {'failures':>8}")
    for r in rows:
        print(
            f"{r['service']:<20} {r['operations']:>10} {str(r['test_cases']):>10} {r['requests']:>9} "
            f"{r['model_failures']:>14} {r['failures']:>8}"
        )
    return 0


def main(argv: list[str]) -> int:
    match argv:
        case ["free-port"]:
            print(free_port())
            return 0
        case ["wait-ready", url, pid, seconds]:
            return wait_ready(url, int(pid), float(seconds))
        case ["scrape", url, out]:
            return scrape(url, out, None)
        case ["scrape", url, out, key]:
            return scrape(url, out, key)
        case ["summarize", name, directory]:
            return summarize(name, directory)
        case ["table", *files]:
            return table(files)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
