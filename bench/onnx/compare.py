#!/usr/bin/env python3
"""Why this exists: the ONNX serving benchmark (issue 14, "Models with no code", item 6). It measures
`easymlserve serve <model>.onnx` (our Rust server, on tract or on ONNX Runtime) against the hand-written
Python way of serving the same file (bench/onnx/fastapi_app.py: FastAPI + Uvicorn + onnxruntime in one
process), for the two models of examples/onnx/models, with the same wrk load and the same request bodies,
and checks the targets of the issue.

Run it through `bench/onnx.sh` (which installs wrk if missing, checks .venvs/onnx and builds the release
binary); `bench/onnx.sh --help` lists the flags. Python 3.11 standard library only (the servers under test
bring their own packages).

What one run does:
 1. cold starts: every configuration is started `--cold-starts` times, one at a time, timing spawn -> first
    200 from POST /process with the model's example body (polled every 2 ms); the median is reported. It
    also records how tract refuses diabetes.onnx (its `Scaler` op), so the report can say why that row is
    missing;
 2. answers: one server of each configuration answers the example body, and for each model all answers must
    agree with ONNX Runtime's (FastAPI's) within 1e-4 before anything is loaded;
 3. load: one server at a time, per concurrency a `--warmup` wrk run (not recorded), then a `--duration`
    run; if other processes used more than `--noisy` cores during it, the point is run again (up to
    `--reruns` times, after waiting for a quiet second) and the quietest run is kept. The load average and
    the CPU used by others are recorded before and after each point;
 4. writes a Markdown report (bench/results/onnx-latest.md by default) with the table, the cold starts and
    the verdicts per target.
When `taskset` exists and there are two or more cores, every server is pinned to core 0 and wrk (one thread)
to core 1, so the load generator does not take the server's core. Every process started is stopped on the
way out (its own process group, SIGTERM then SIGKILL; and it is asked to die with this script), error or not.
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
BENCH = ROOT / "bench"
MODELS = ROOT / "examples" / "onnx" / "models"
VENV = ROOT / ".venvs" / "onnx"
ORT_LIBRARY = VENV / "lib" / "python3.11" / "site-packages" / "onnxruntime" / "capi" / "libonnxruntime.so.1.32.0"
DEFAULT_BINARY = ROOT / "target" / "release" / "easymlserve"
DEFAULT_OUT = BENCH / "results" / "onnx-latest.md"
LOGS = BENCH / "results" / "onnx-logs.tmp"  # server output of the last run, git-ignored


def load_side_by_side() -> ModuleType:
    """bench/compare.py (the side-by-side benchmark) under another name: this file is called compare.py
    too, so a plain `import compare` would find itself. Its process handling and HTTP helpers fit as they
    are; it imports compare_report from bench/, hence the path."""
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_compare", BENCH / "compare.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


side = load_side_by_side()
from compare_wrk import wrk_script  # noqa: E402  (bench/, on the path since load_side_by_side)

# ---------------------------------------------------------------------------------------------------------
# What is measured


@dataclass
class Config:
    """One server under test for one model."""

    key: str
    model: str  # file stem in examples/onnx/models
    server: str  # as the report names it
    runtime: str  # "tract", "ort" (ONNX Runtime from Rust) or "onnxruntime (Python)"
    side: str  # "a" (easymlserve) or "b" (FastAPI)

    def argv(self, binary: Path, port: int) -> list[str]:
        model = str(MODELS / f"{self.model}.onnx")
        if self.side == "b":
            return [str(VENV / "bin" / "uvicorn"), "--app-dir", str(BENCH / "onnx"), "--host", "127.0.0.1",
                    "--port", str(port), "--log-level", "warning", "fastapi_app:app"]
        argv = [str(binary), "serve", model, "--port", str(port), "--onnx-runtime", self.runtime]
        if self.runtime == "ort":
            argv += ["--ort-library", str(ORT_LIBRARY)]
        return argv

    def environment(self) -> dict[str, str]:
        if self.side == "b":
            return {"ONNX_MODEL": str(MODELS / f"{self.model}.onnx")}
        return {"EASYMLSERVE_LOG": "warn"}  # no access log per request, as in the other benchmarks


CONFIGS = [
    Config("diabetes-ort", "diabetes", "(a) easymlserve", "ort", "a"),
    Config("diabetes-fastapi", "diabetes", "(b) FastAPI + Uvicorn", "onnxruntime (Python)", "b"),
    Config("digits-tract", "digits_cnn", "(a) easymlserve", "tract", "a"),
    Config("digits-ort", "digits_cnn", "(a) easymlserve", "ort", "a"),
    Config("digits-fastapi", "digits_cnn", "(b) FastAPI + Uvicorn", "onnxruntime (Python)", "b"),
]
# The row that cannot be: tract lacks the ai.onnx.ml operators of the scikit-learn pipeline.
UNSUPPORTED = Config("diabetes-tract", "diabetes", "(a) easymlserve", "tract", "a")


def body_of(model: str) -> bytes:
    return (MODELS / f"{model}.example.json").read_bytes()


# ---------------------------------------------------------------------------------------------------------
# Processes

# The first two cores this script may use: the server's and wrk's when pinned.
SERVER_CORE, WRK_CORE = (str(c) for c in (sorted(os.sched_getaffinity(0)) * 2)[:2])


def pinning() -> bool:
    return shutil.which("taskset") is not None and len(os.sched_getaffinity(0)) >= 2


def die_with_parent() -> None:
    """In the child before exec: SIGKILL when this script dies, even by SIGKILL (PR_SET_PDEATHSIG survives
    exec; `taskset` execs the server in the same process)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A started server process on a free port, in its own process group, registered with bench/compare.py's
    RUNNING so its exit hooks stop it too."""

    def __init__(self, config: Config, binary: Path, logs: Path, tag: str, pin: bool):
        self.config = config
        self.port = free_port()
        self.log_path = logs / f"{config.key}-{tag}.log"
        argv = config.argv(binary, self.port)
        if pin:
            argv = ["taskset", "-c", SERVER_CORE] + argv
        with open(self.log_path, "wb") as log:
            self.spawned = time.perf_counter()
            self.proc = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **config.environment()},
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, preexec_fn=die_with_parent)
        side.RUNNING[self.proc.pid] = self.proc

    def wait_answer(self, body: bytes, timeout: float = 60.0) -> tuple[float, dict[str, Any]]:
        """Seconds from spawn to the first 200 from POST /process with `body`, and that answer."""
        deadline = self.spawned + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.config.key} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, raw = side.http_call(self.port, "POST", "/process", body, timeout=5.0)
                if status == 200:
                    return time.perf_counter() - self.spawned, json.loads(raw)
            except OSError:
                pass
            time.sleep(0.002)
        raise RuntimeError(f"{self.config.key} gave no 200 within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        side.stop_process(self.proc)

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def unsupported_reason(binary: Path, logs: Path, pin: bool) -> str:
    """What `serve diabetes.onnx --onnx-runtime tract` says when it exits (it should, on the Scaler op)."""
    server = Server(UNSUPPORTED, binary, logs, "refused", pin)
    try:
        server.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        return "did not exit within 30 s (unexpected: it should refuse the model)"
    finally:
        server.stop()
    text = strip_ansi(server.log_tail(5)).strip().splitlines()
    return f"exit {server.proc.returncode}: {text[-1] if text else '(no output)'}"


def strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


# ---------------------------------------------------------------------------------------------------------
# Answers


def flatten(value: Any) -> list[float]:
    if isinstance(value, list):
        return [x for item in value for x in flatten(item)]
    return [float(value)]


def shape(value: Any) -> list[int]:
    return [len(value)] + shape(value[0]) if isinstance(value, list) and value else []


def check_answers(answers: dict[str, dict[str, Any]]) -> dict[str, float]:
    """Per model, every answer against FastAPI's (ONNX Runtime's own): same output names and shapes, values
    within 1e-4 absolute + 1e-4 relative. Returns the largest difference per configuration of side (a) whose
    model's FastAPI answer is at hand (all of them, unless `--only` left FastAPI out)."""
    differences: dict[str, float] = {}
    for config in CONFIGS:
        reference_key = next(c.key for c in CONFIGS if c.model == config.model and c.side == "b")
        if config.side == "b" or config.key not in answers or reference_key not in answers:
            continue
        ref, got = answers[reference_key], answers[config.key]
        if sorted(ref) != sorted(got):
            raise RuntimeError(f"{config.key} answers {sorted(got)}, ONNX Runtime {sorted(ref)}")
        worst = 0.0
        for name in ref:
            if shape(ref[name]) != shape(got[name]):
                raise RuntimeError(f"{config.key}: {name} has shape {shape(got[name])}, expected {shape(ref[name])}")
            for a, b in zip(flatten(got[name]), flatten(ref[name])):
                if abs(a - b) > 1e-4 + 1e-4 * abs(b):
                    raise RuntimeError(f"{config.key}: {name} differs from ONNX Runtime: {a} against {b}")
                worst = max(worst, abs(a - b))
        differences[config.key] = worst
    return differences


# ---------------------------------------------------------------------------------------------------------
# Load


def run_wrk(server: Server, script: Path, concurrency: int, seconds: int, pin: bool) -> dict[str, Any]:
    """One wrk run on the server: requests/s, p50/p99 (us, wrk's histogram), errors, server CPU per request,
    and the cores other processes used meanwhile (bench/compare.py's CpuMeter)."""
    threads = 1 if pin else min(concurrency, 2)  # one core for wrk: a second thread would only switch
    argv = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--timeout=10s", "--latency",
            "-s", str(script), f"http://127.0.0.1:{server.port}/process"]
    if pin:
        argv = ["taskset", "-c", WRK_CORE] + argv
    load_before = os.getloadavg()[0]
    meter = side.CpuMeter(server.proc.pid)
    cpu_before = side.process_cpu_s(server.proc.pid)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 90, preexec_fn=die_with_parent)
    cpu_s = side.process_cpu_s(server.proc.pid) - cpu_before
    cores = meter.cores()
    line = next((l for l in out.stdout.splitlines() if l.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result (exit {out.returncode}):\n{out.stdout}\n{out.stderr}")
    r: dict[str, Any] = json.loads(line[len("BENCH "):])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["server_cpu_us"] = cpu_s * 1e6 / max(r["requests"], 1)
    r["cores"] = cores
    r["load_before"], r["load_after"] = load_before, os.getloadavg()[0]
    return r


def drain(server: Server, body: bytes) -> None:
    """Requests wrk left in flight finish before the next run: a request sent now queues behind them."""
    for _ in range(2):
        side.http_call(server.port, "POST", "/process", body, timeout=60)


def measure_load(config: Config, args: argparse.Namespace, binary: Path, logs: Path, pin: bool,
                 scripts: dict[str, Path], quiet: Any) -> dict[str, Any]:
    body = body_of(config.model)
    server = Server(config, binary, logs, "load", pin)
    points: dict[str, Any] = {}
    try:
        server.wait_answer(body)
        for c in args.concurrency:
            quiet.wait()
            run_wrk(server, scripts[config.model], c, args.warmup, pin)  # warm-up, not recorded
            drain(server, body)
            runs = []
            for attempt in range(args.reruns + 1):
                if attempt:
                    quiet.wait()
                runs.append(run_wrk(server, scripts[config.model], c, args.duration, pin))
                drain(server, body)
                r = runs[-1]
                print(f"  {config.key:<17} c={c:<3} {r['rps']:>9,.0f} req/s  p50 {fmt_us(r['p50_us']):>9}  "
                      f"p99 {fmt_us(r['p99_us']):>9}  others {r['cores']['other']:.2f} cores  "
                      f"load {r['load_before']:.2f} -> {r['load_after']:.2f}", flush=True)
                if r["cores"]["other"] <= args.noisy:
                    break
            best = min(runs, key=lambda r: r["cores"]["other"])
            best["attempts"] = len(runs)
            points[str(c)] = best
    finally:
        server.stop()
    return points


# ---------------------------------------------------------------------------------------------------------
# Report


def fmt_us(us: float | None) -> str:
    if us is None:
        return "-"
    if us >= 1_000_000:
        return f"{us / 1e6:.2f} s"
    if us >= 1000:
        return f"{us / 1000:.2f} ms"
    return f"{us:.0f} us"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def render(results: dict[str, Any]) -> str:
    meta, load, cold = results["meta"], results["load"], results["cold"]
    lines = ["# ONNX serving benchmark (issue 14, item 6)", ""]
    if "/release/" not in meta["binary"]:
        lines += [f"**Not a release binary ({meta['binary']}): these figures check the harness only.**", ""]
    lines += [
        f"Run of {meta['date']} ({meta['minutes']:.1f} minutes), `{meta['command']}`, binary `{meta['binary_rel']}` "
        f"(built {meta['binary_mtime']}) of the working tree at {meta['commit']}.",
        f"Machine: {meta['cpu']}, {meta['cores']} cores, kernel {meta['kernel']}; {meta['wrk']}; "
        f"Python side: onnxruntime {meta['py']['onnxruntime']}, FastAPI {meta['py']['fastapi']}, "
        f"Uvicorn {meta['py']['uvicorn']}, numpy {meta['py']['numpy']}.",
        f"Pinning: {meta['pinning']}.",
        f"Load average (1 min) {meta['loadavg_before'][0]:.2f} before the run, {meta['loadavg_after'][0]:.2f} after; "
        f"per point below, the load average before and after the measured run and the cores other processes "
        f"used during it" + (f" (a point with more than {results['settings']['noisy']} cores used by others was run "
                             f"again, up to {results['settings']['reruns']} times, and the quietest run kept)."
                             if results['settings']['reruns'] else " (no reruns in this run)."),
        f"Each point: a {results['settings']['warmup']} s warm-up run, then one {results['settings']['duration']} s "
        f"wrk run (1 thread{' on core ' + WRK_CORE if meta['pinned'] else ''}), POST /process with "
        "`examples/onnx/models/<model>.example.json`; p50/p99 from wrk's latency histogram.",
        "",
        "| model | server | runtime | concurrency | requests/s | p50 | p99 | non-2xx / socket errors | server CPU per request "
        "| others (cores) | load before -> after |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for config in selected(results):
        for c, r in load[config.key].items():
            rerun = f" ({r['attempts']} runs)" if r["attempts"] > 1 else ""
            lines.append(
                f"| {config.model} | {config.server} | {config.runtime} | {c} | {r['rps']:,.0f} | {fmt_us(r['p50_us'])} "
                f"| {fmt_us(r['p99_us'])} | {r['non_2xx']} / {r['socket_errors']} | {fmt_us(r['server_cpu_us'])} "
                f"| {r['cores']['other']:.2f}{rerun} | {r['load_before']:.2f} -> {r['load_after']:.2f} |")
    lines += ["", f"Cold start: spawn to the first 200 from POST /process (polled every 2 ms), "
                  f"{results['settings']['cold_starts']} starts each; easymlserve on ONNX Runtime is given "
                  "`--ort-library`.", "",
              "| model | server | runtime | median | min - max |", "|---|---|---|---:|---:|"]
    for config in selected(results):
        s = cold[config.key]
        lines.append(f"| {config.model} | {config.server} | {config.runtime} | {fmt_ms(statistics.median(s))} "
                     f"| {fmt_ms(min(s))} - {fmt_ms(max(s))} |")
    lines += ["", f"`easymlserve serve diabetes.onnx --onnx-runtime tract`: {results['tract_diabetes']}.",
              ("Answers: every server's answer to the example body agrees with ONNX Runtime's (FastAPI's); largest "
               "difference " + ", ".join(f"{k} {v:.1e}" for k, v in results["differences"].items()) + "."
               if results["differences"] else "Answers: not compared (`--only` left FastAPI out)."), ""]
    lines += verdicts(results)
    return "\n".join(lines) + "\n"


def selected(results: dict[str, Any]) -> list[Config]:
    return [c for c in CONFIGS if c.key in results["cold"]]


def verdicts(results: dict[str, Any]) -> list[str]:
    """The targets of the issue, each where the run measured what it needs."""
    load, cold = results["load"], results["cold"]

    def point(key: str, c: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = load.get(key, {}).get(c)
        return found

    out = ["| target | measured | result |", "|---|---:|---|"]
    a, b = point("diabetes-ort", "16"), point("diabetes-fastapi", "16")
    if a and b:
        ratio = a["rps"] / b["rps"]
        out.append(f"| diabetes: (a) requests/s >= 3x (b) at c=16 | {ratio:.1f}x ({a['rps']:,.0f} / {b['rps']:,.0f}) "
                   f"| {verdict(ratio >= 3)} |")
    else:
        out.append("| diabetes: (a) requests/s >= 3x (b) at c=16 | not measured in this run | - |")
    a, b = point("digits-tract", "1"), point("digits-fastapi", "1")
    if a and b:
        ratio = a["p50_us"] / b["p50_us"]
        out.append(f"| digits: (a) on tract p50 latency within 1.5x of (b)'s at c=1 | {ratio:.2f}x "
                   f"({fmt_us(a['p50_us'])} / {fmt_us(b['p50_us'])}; p99 {fmt_us(a['p99_us'])} / "
                   f"{fmt_us(b['p99_us'])}) | {verdict(ratio <= 1.5)} |")
    else:
        out.append("| digits: (a) on tract p50 latency within 1.5x of (b)'s at c=1 | not measured in this run | - |")
    for key, label in (("diabetes-ort", "diabetes (ONNX Runtime, `--ort-library`)"), ("digits-tract", "digits (tract)")):
        if key in cold:
            median = statistics.median(cold[key])
            out.append(f"| cold start of (a) < 100 ms, {label} | {fmt_ms(median)} (median of {len(cold[key])}) "
                       f"| {verdict(median < 0.1)} |")
    out += ["", "Which runtime is faster, per model:", ""]
    out.append("- diabetes: ONNX Runtime only; tract cannot load it (above).")
    tract, ort = load.get("digits-tract", {}), load.get("digits-ort", {})
    parts = [f"c={c} tract {tract[c]['rps']:,.0f} / ort {ort[c]['rps']:,.0f} req/s "
             f"(p50 {fmt_us(tract[c]['p50_us'])} / {fmt_us(ort[c]['p50_us'])})" for c in tract if c in ort]
    if parts:
        wins = sum(1 for c in tract if c in ort and tract[c]["rps"] > ort[c]["rps"])
        faster = "tract" if wins * 2 > len(parts) else "ONNX Runtime" if wins * 2 < len(parts) else "neither clearly"
        out.append(f"- digits_cnn: {faster} ({'; '.join(parts)}).")
    return out


# ---------------------------------------------------------------------------------------------------------
# The run


def parse_args() -> argparse.Namespace:
    def levels(text: str) -> list[int]:
        return [int(v) for v in text.split(",") if v]

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--duration", type=int, help="seconds of each measured wrk run (default 10, --quick 3)")
    p.add_argument("--warmup", type=int, help="seconds of the warm-up run before each point (default 2, --quick 1)")
    p.add_argument("--concurrency", type=levels, default=[1, 16, 64], help="comma-separated levels (default 1,16,64)")
    p.add_argument("--cold-starts", type=int, help="starts per configuration for the cold start (default 7, --quick 3)")
    p.add_argument("--reruns", type=int, help="extra runs of a point while others use the CPU (default 2, --quick 0)")
    p.add_argument("--noisy", type=float, default=0.25, help="cores used by others that make a point noisy (0.25)")
    p.add_argument("--quiet-wait", type=float, default=300,
                   help="seconds in all to wait for a quiet machine (< 0.25 cores busy) before the points (300)")
    p.add_argument("--quick", action="store_true", help="a quick check: shorter defaults, as above")
    p.add_argument("--binary", type=Path, default=DEFAULT_BINARY, help="the easymlserve binary (default: release)")
    p.add_argument("--only", type=lambda t: [k for k in t.split(",") if k], default=None,
                   help="comma-separated configurations to run (to take a noisy point again): "
                        + ", ".join(c.key for c in CONFIGS) + "; the report then goes to "
                        "bench/results/onnx-logs.tmp/report.md unless --out says otherwise")
    p.add_argument("--no-pin", action="store_true", help="do not pin the server and wrk to separate cores")
    p.add_argument("--out", type=Path, help="the Markdown report (default bench/results/onnx-latest.md)")
    args = p.parse_args()
    unknown = set(args.only or []) - {c.key for c in CONFIGS}
    if unknown:
        p.error(f"--only: unknown {sorted(unknown)}")
    if args.out is None:
        args.out = LOGS / "report.md" if args.only else DEFAULT_OUT
    defaults = {"duration": 3, "warmup": 1, "cold_starts": 3, "reruns": 0} if args.quick else \
        {"duration": 10, "warmup": 2, "cold_starts": 7, "reruns": 2}
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def meta(args: argparse.Namespace, binary: Path, pin: bool) -> dict[str, Any]:
    def first_line(argv: list[str]) -> str:
        out = subprocess.run(argv, capture_output=True, text=True)
        return (out.stdout or out.stderr).strip().splitlines()[0]

    commit = first_line(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"])
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    py = json.loads(first_line([str(VENV / "bin" / "python"), "-c",
                                "import json, onnxruntime, fastapi, uvicorn, numpy; print(json.dumps({m.__name__: "
                                "m.__version__ for m in (onnxruntime, fastapi, uvicorn, numpy)}))"]))
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mtime = datetime.fromtimestamp(binary.stat().st_mtime, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu, "cores": os.cpu_count(),
        "kernel": os.uname().release, "wrk": first_line(["wrk", "-v"]).split(" [")[0], "py": py,
        "commit": commit + (" (with uncommitted changes)" if dirty else ""), "binary": str(binary),
        "binary_rel": os.path.relpath(binary, ROOT), "binary_mtime": mtime, "pinned": pin,
        "command": "bench/onnx.sh " + " ".join(sys.argv[1:]) if sys.argv[1:] else "bench/onnx.sh",
        "pinning": (f"every server `taskset -c {SERVER_CORE}` (so easymlserve sees one core and starts one model "
                    f"worker; ONNX Runtime's threads, in either server, share that core), wrk `taskset -c {WRK_CORE}`"
                    if pin else "none (no taskset, or one core): server and wrk share the cores"),
    }


def main() -> int:
    args = parse_args()
    binary = args.binary.resolve()
    for needed, hint in ((binary, "build it: cargo build --release -p easymlserve-cli"),
                         (VENV / "bin" / "uvicorn", "make .venvs/onnx: scripts/test --setup-only"),
                         (ORT_LIBRARY, "make .venvs/onnx: scripts/test --setup-only")):
        if not needed.exists():
            sys.exit(f"missing {needed}: {hint}")
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk (bench/onnx.sh does)")
    pin = pinning() and not args.no_pin
    signal.signal(signal.SIGTERM, side.on_signal)
    signal.signal(signal.SIGHUP, side.on_signal)
    atexit.register(side.stop_all)
    started = time.monotonic()
    logs = LOGS
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)  # after parse_args: an --only report may go here
    scripts_dir = logs / "wrk"
    scripts_dir.mkdir()
    configs = [c for c in CONFIGS if args.only is None or c.key in args.only]
    scripts = {m: wrk_script(scripts_dir, m, body_of(m)) for m in {c.model for c in configs}}
    results: dict[str, Any] = {"meta": meta(args, binary, pin), "cold": {}, "load": {},
                               "settings": {k: v for k, v in vars(args).items() if k not in ("binary", "out")}}
    results["meta"]["loadavg_before"] = os.getloadavg()
    print(f"Load average {os.getloadavg()[0]:.2f}; pinning: {'on' if pin else 'off'}; server logs in {logs}", flush=True)
    try:
        print("Cold starts (spawn -> first 200 from POST /process):", flush=True)
        answers: dict[str, dict[str, Any]] = {}
        quiet = side.QuietWaiter(args.quiet_wait)  # before each configuration and point: a quiet second
        for config in configs:
            seconds = []
            quiet.wait()
            for i in range(args.cold_starts):
                server = Server(config, binary, logs, f"cold{i}", pin)
                try:
                    elapsed, answers[config.key] = server.wait_answer(body_of(config.model))
                finally:
                    server.stop()
                seconds.append(elapsed)
            results["cold"][config.key] = seconds
            print(f"  {config.key:<17} median {fmt_ms(statistics.median(seconds))} "
                  f"({', '.join(fmt_ms(s) for s in seconds)})", flush=True)
        results["tract_diabetes"] = unsupported_reason(binary, logs, pin)
        print(f"  diabetes on tract: {results['tract_diabetes']}", flush=True)
        results["differences"] = check_answers(answers)
        print("Load (wrk):", flush=True)
        for config in configs:
            results["load"][config.key] = measure_load(config, args, binary, logs, pin, scripts, quiet)
    finally:
        side.stop_all()
    results["meta"]["loadavg_after"] = os.getloadavg()
    results["meta"]["minutes"] = (time.monotonic() - started) / 60
    report = render(results)
    print("\n" + report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(f"Written to {args.out}; server logs in {logs}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
