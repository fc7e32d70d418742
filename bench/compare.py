#!/usr/bin/env python3
"""Why this exists: the side-by-side benchmark of issue #7. It measures easymlserve against the original
EasyMLServe stack (FastAPI + Uvicorn + scikit-learn) and against a bare axum handler, on the same machine,
with the same load generator (wrk) and the same request bodies, and checks the performance targets. Since
issue #13 also the Python forecasting example (examples/python-forecasting) served three ways on the same
models: FastAPI + Uvicorn in one process, easymlserve with Python worker processes, and beside them the Rust
example; and the worker protocol's own cost per request (`--only python` measures just that part).

Run it through `bench/compare.sh` (which installs wrk, makes bench/.venv and builds the release binaries);
`bench/compare.sh --help` lists the flags. Python 3.11 standard library only.

What one run does:
 1. prepares: trains the forecasting models of both stacks if they are missing (never timed); the Python
    models are the example's (examples/python-forecasting/train.py), shared by FastAPI and the workers;
 2. starts every service `--cold-starts` times, one at a time, timing spawn -> first 200 on its health URL,
    and keeps one answer of each; checks the answers (echo text equal; forecasts of the same length and
    timestamps, linear regression equal within 1 MW between Rust and Python) before any load is measured;
 3. echo: starts the three echo servers side by side (each idle while another is loaded), checks their
    answers again, then per concurrency gives each a warm-up run and takes `--runs` fixed runs in turn
    (run 1 of every server, then run 2, ...), so a slow spell of the machine falls on all of them rather
    than on one; forecasting: one server at a time, per concurrency `--runs` runs of a warm-up followed by
    a measured window on the same connections. The server is drained after every run; finally each
    server's peak RSS (VmHWM) is read;
 4. prints a Markdown report and writes it to bench/results/compare-latest.md (raw figures in .json).
Every process it starts is stopped on the way out, and all traffic goes to 127.0.0.1.
"""

import argparse
import atexit
import csv
import http.client
import json
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from compare_report import render  # beside this file
from compare_wrk import percentile, wrk_script

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = BENCH / ".venv" / "bin"
RELEASE = ROOT / "target" / "release"
FORECAST_DIR = ROOT / "examples" / "load-forecasting"
PYTHON_FORECAST_DIR = ROOT / "examples" / "python-forecasting"
PYTHON_MODELS = PYTHON_FORECAST_DIR / "models"
# Python workers of the Python-served rows: bench/.venv's interpreter, so the workers and the FastAPI app run
# the same scikit-learn, numpy and pydantic on the same model files.
WORKERS = 2
RESULTS = BENCH / "results"
LOGS = RESULTS / "compare-logs.tmp"  # server output of the last run, git-ignored

ECHO_BODY = {"text": "hello ", "repeat": 3}
ECHO_ANSWER = {"text": "hello hello hello "}
FORECAST_MODELS = ["LR", "SVR", "RF"]


@dataclass
class Service:
    """One server under test: how to start it and where to ask it."""

    key: str  # short id used in the raw results
    workload: str  # "echo", "forecast", or "overhead" (the Python echo through a worker)
    stack: str  # what it is built with, as the report names it
    argv: list[str]
    port: int
    ready_path: str
    env: dict = field(default_factory=dict)
    cwd: Path = ROOT
    groups: tuple = ()  # the `--only` choices that measure it


def python_serve(service_file: Path, workers: int) -> list[str]:
    """`easymlserve serve --python` for a service file of this checkout, with bench/.venv's Python."""
    return [str(RELEASE / "easymlserve"), "serve", "--python", str(service_file), "--workers", str(workers),
            "--python-bin", str(VENV_BIN / "python")]


def services() -> list[Service]:
    """The servers, each on its own port; only one runs at a time (the echo servers: one loaded at a time)."""
    rust_env = {"EASYMLSERVE_LOG": "warn"}
    uvicorn = [str(VENV_BIN / "uvicorn"), "--app-dir", str(BENCH / "python"), "--host", "127.0.0.1",
               "--log-level", "warning"]
    python_env = {**rust_env, "PYTHON_FORECASTING_MODELS": str(PYTHON_MODELS)}
    return [
        Service("echo-easymlserve", "echo", "easymlserve", [str(RELEASE / "echo")], 18081, "/health/ready",
                {**rust_env, "EASYMLSERVE_PORT": "18081"}, groups=("echo", "python", "python-overhead")),
        Service("echo-axum", "echo", "bare axum", [str(RELEASE / "bare-echo")], 18083, "/health/ready",
                {"BARE_ECHO_PORT": "18083"}, groups=("echo",)),
        Service("echo-fastapi", "echo", "FastAPI + Uvicorn", uvicorn + ["--port", "18084", "echo_app:app"], 18084,
                "/health", groups=("echo",)),
        Service("echo-python-workers", "overhead", "easymlserve, Python worker",
                python_serve(BENCH / "python" / "echo_service.py", 1) + ["--port", "18086"], 18086, "/health/ready",
                rust_env, groups=("python", "python-overhead")),
        Service("forecast-easymlserve", "forecast", "easymlserve", [str(RELEASE / "load-forecasting"), "serve"], 18082,
                "/health/ready", {**rust_env, "EASYMLSERVE_PORT": "18082"}, groups=("forecast", "python")),
        Service("forecast-fastapi", "forecast", "FastAPI + Uvicorn", uvicorn + ["--port", "18085", "forecast_app:app"],
                18085, "/health", {"PYTHON_FORECASTING_MODELS": str(PYTHON_MODELS)}, groups=("forecast", "python")),
        Service("forecast-python-workers", "forecast", f"easymlserve, {WORKERS} Python workers",
                python_serve(PYTHON_FORECAST_DIR / "service.py", WORKERS) + ["--port", "18087"], 18087,
                "/health/ready", python_env, groups=("python",)),
    ]


# ---------------------------------------------------------------------------------------------------------
# Starting and stopping servers

RUNNING: dict[int, subprocess.Popen] = {}  # every server process alive, so the exit hooks can stop it


class Server:
    """A started service process; `stop()` ends it (SIGTERM, then SIGKILL after 10 s)."""

    def __init__(self, service: Service, log_name: str):
        if port_in_use(service.port):
            raise RuntimeError(f"port {service.port} is already in use: stop what listens there first")
        self.service = service
        self.log_path = LOGS / f"{log_name}.log"
        log = open(self.log_path, "wb")
        self.spawned = time.perf_counter()
        # Own session: a Ctrl-C in the terminal reaches only this script, which then stops the server itself.
        self.proc = subprocess.Popen(service.argv, cwd=service.cwd, env={**os.environ, **service.env},
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        RUNNING[self.proc.pid] = self.proc

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Seconds from spawn to the first 200 on the health URL; polls every 2 ms."""
        deadline = self.spawned + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.service.key} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, _ = http_call(self.service.port, "GET", self.service.ready_path, None, timeout=1.0)
                if status == 200:
                    return time.perf_counter() - self.spawned
            except OSError:
                pass
            time.sleep(0.002)
        raise RuntimeError(f"{self.service.key} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def peak_rss_kb(self) -> int:
        """VmHWM of the server process, the most resident memory it has had, plus that of its worker
        processes if it has any (easymlserve serving Python)."""
        total = 0
        for pid in process_tree(self.proc.pid):
            try:
                with open(f"/proc/{pid}/status") as f:
                    total += next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
            except (OSError, StopIteration):
                continue  # gone, or a zombie
        return total

    def stop(self) -> None:
        stop_process(self.proc)

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM to the server's own process group, SIGKILL if it is not gone within 10 s."""
    if proc.poll() is None:
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
    RUNNING.pop(proc.pid, None)


def stop_all() -> None:
    for proc in list(RUNNING.values()):
        stop_process(proc)


def on_signal(signum, _frame):
    raise SystemExit(f"stopped by signal {signum}")  # unwinds through the finally blocks


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def http_call(port: int, method: str, path: str, body: bytes | None, timeout: float = 60.0,
              conn: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    """One request to 127.0.0.1:port; reuses `conn` (keep-alive) when given."""
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


# ---------------------------------------------------------------------------------------------------------
# Requests and answer checks

def forecast_body(sample: Path, models: list[str]) -> bytes:
    """A month of a sample CSV as the forecasting service's JSON request."""
    with open(sample, newline="") as f:
        rows = list(csv.DictReader(f))
    return json.dumps({"models": models, "time": [r["time"] for r in rows],
                       "energy": [float(r["energy"]) for r in rows]}).encode()


def ask(service: Service, body: bytes) -> dict:
    status, raw = http_call(service.port, "POST", "/process", body)
    if status != 200:
        raise RuntimeError(f"{service.key}: POST /process answered {status}: {raw[:300]!r}")
    return json.loads(raw)


def check_answer(service: Service, answer: dict, hours: int) -> None:
    """The answer of one service has the expected shape (and, for echo, the expected text)."""
    if service.workload in ("echo", "overhead"):
        if answer != ECHO_ANSWER:
            raise RuntimeError(f"{service.key}: echo answered {answer}, expected {ECHO_ANSWER}")
        return
    forecasts = answer.get("forecasts", [])
    if [f.get("model") for f in forecasts] != FORECAST_MODELS:
        got = [f.get("model") for f in forecasts]
        raise RuntimeError(f"{service.key}: forecasts for {got}, expected {FORECAST_MODELS}")
    for f in forecasts:
        if not len(f["time"]) == len(f["energy"]) == hours - 23:
            raise RuntimeError(f"{service.key}: {f['model']} has {len(f['time'])} times and {len(f['energy'])} "
                               f"values, expected {hours - 23} of each")
        if not all(20_000 < v < 120_000 for v in f["energy"]):
            raise RuntimeError(f"{service.key}: {f['model']} forecasts values outside 20-120 GW")


def same_answer(a: dict, b: dict) -> bool:
    """Two answers of one service agree: equal, or forecasts within 0.1 MW (a forest that predicts on several
    threads adds its trees in a varying order, which can move a value rounded to 0.1 MW by one step)."""
    if "forecasts" not in a or "forecasts" not in b:
        return a == b
    return all(fa["model"] == fb["model"] and fa["time"] == fb["time"] and len(fa["energy"]) == len(fb["energy"])
               and all(abs(x - y) <= 0.1 + 1e-6 for x, y in zip(fa["energy"], fb["energy"]))
               for fa, fb in zip(a["forecasts"], b["forecasts"], strict=True))


def compare_forecasts(rust: dict, python: dict) -> dict:
    """Rust against Python: same timestamps, LR within 1 MW (same least-squares fit); the mean difference
    of SVR and RF is only reported (different solvers and random draws give slightly different models)."""
    differences = {}
    for r, p in zip(rust["forecasts"], python["forecasts"]):
        if r["time"] != p["time"]:
            raise RuntimeError(f"{r['model']}: the two stacks stamp the forecasts differently")
        gaps = [abs(a - b) for a, b in zip(r["energy"], p["energy"])]
        differences[r["model"]] = {"max_mw": max(gaps), "mean_mw": statistics.fmean(gaps)}
    if differences["LR"]["max_mw"] > 1.0:
        raise RuntimeError(f"LR forecasts differ by up to {differences['LR']['max_mw']:.1f} MW between the stacks")
    return differences


# ---------------------------------------------------------------------------------------------------------
# Load with wrk

def run_wrk(server: Server, script: Path, concurrency: int, seconds: int, timeout_s: int,
            windowed: bool = False) -> dict:
    """One wrk run; requests/s, p50/p99 in microseconds (None if nothing completed), non-2xx and socket
    errors, and the server's CPU time per request answered during the run."""
    threads = concurrency if windowed else min(concurrency, 2)
    argv = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", f"--timeout={timeout_s}s", "--latency",
            "-s", str(script), f"http://127.0.0.1:{server.service.port}/process"]
    cpu_before = process_cpu_s(server.proc.pid)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + timeout_s + 60)
    cpu_s = process_cpu_s(server.proc.pid) - cpu_before
    line = next((l for l in out.stdout.splitlines() if l.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result (exit {out.returncode}):\n{out.stdout}\n{out.stderr}")
    r = json.loads(line[len("BENCH "):])
    if not windowed:
        r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
        r["server_cpu_us"] = cpu_s * 1e6 / max(r["requests"], 1)
        return r
    # Windowed runs leave requests half done when wrk stops, which would load the CPU figure; forecasting's
    # CPU per request comes from the sequential per-model requests instead.
    r["server_cpu_us"] = None
    latencies = sorted(r.pop("latencies_us"))
    r["requests"] = len(latencies)
    r["rps"] = len(latencies) / (r["window_us"] / 1e6)
    r["p50_us"] = percentile(latencies, 50) if latencies else None
    r["p99_us"] = percentile(latencies, 99) if latencies else None
    return r


def drain(service: Service, body: bytes) -> None:
    """Waits until requests that wrk abandoned at the end of a run are finished: a request sent now queues
    behind them; a second one then finds the server idle."""
    for _ in range(2):
        http_call(service.port, "POST", "/process", body, timeout=300)


def process_tree(pid: int) -> list[int]:
    """`pid` and the processes it started, and theirs (a server's Python workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parent = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        tree.append(current := todo.pop())
        todo.extend(children.get(current, []))
    return tree


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a server has used so far, all its threads together, with its live
    worker processes (whose CPU the kernel does not add to the parent's until they are waited for)."""
    total = 0
    for member in process_tree(pid):
        try:
            with open(f"/proc/{member}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def per_model_ms(service: Service, pid: int, sample: Path, repeats: int) -> dict:
    """For one model at a time and for all three, sequential requests: the median latency (ms) and the
    server's CPU time per request (ms, all threads). The CPU time hardly depends on other load on the
    machine, and bounds the throughput: two cores give at most 2000 / cpu_ms requests/s."""
    timings = {}
    conn = http.client.HTTPConnection("127.0.0.1", service.port, timeout=120)
    try:
        for models in (["LR"], ["SVR"], ["RF"], FORECAST_MODELS):
            body = forecast_body(sample, models)
            http_call(service.port, "POST", "/process", body, conn=conn)  # warm-up
            samples = []
            cpu_before = process_cpu_s(pid)
            for _ in range(repeats):
                started = time.perf_counter()
                status, _ = http_call(service.port, "POST", "/process", body, conn=conn)
                samples.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise RuntimeError(f"{service.key}: {models} answered {status}")
            cpu_ms = (process_cpu_s(pid) - cpu_before) * 1000 / repeats
            timings["+".join(models)] = {"wall_ms": statistics.median(samples), "cpu_ms": cpu_ms}
    finally:
        conn.close()
    return timings


# ---------------------------------------------------------------------------------------------------------
# Preparation

def prepare_models(skip_python: bool) -> None:
    """Trains what is missing, before anything is timed: the Rust example's models (its `train` command)
    and the Python example's scikit-learn models (its train.py, again if scikit-learn changed)."""
    if not all((FORECAST_DIR / "models" / f).is_file() for f in ("lr.bin", "svr.bin", "rf.bin")):
        print("Training the easymlserve forecasting models (once; a minute or two)...", flush=True)
        subprocess.run([str(RELEASE / "load-forecasting"), "train"], check=True)
    if skip_python:
        return
    meta = PYTHON_MODELS / "meta.json"
    installed = subprocess.run([str(VENV_BIN / "python"), "-c", "import sklearn; print(sklearn.__version__)"],
                               capture_output=True, text=True, check=True).stdout.strip()
    if (not meta.is_file() or json.loads(meta.read_text()).get("sklearn") != installed
            or json.loads(meta.read_text()).get("small")):
        print("Training the scikit-learn forecasting models (once; a minute or two)...", flush=True)
        subprocess.run([str(VENV_BIN / "python"), str(PYTHON_FORECAST_DIR / "train.py"), "--models",
                        str(PYTHON_MODELS)], check=True)


def versions() -> dict:
    """What was measured, for the report header."""
    def first_line(argv):
        try:
            out = subprocess.run(argv, capture_output=True, text=True)
            return (out.stdout or out.stderr).splitlines()[0].strip()
        except (OSError, IndexError):
            return "?"
    python = first_line([str(VENV_BIN / "python"), "-c", "import fastapi, uvicorn, sklearn, platform; print("
                         "f'Python {platform.python_version()}, FastAPI {fastapi.__version__}, "
                         "Uvicorn {uvicorn.__version__}, scikit-learn {sklearn.__version__}')"])
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu, "cores": os.cpu_count(),
            "kernel": platform.release(), "rustc": first_line(["rustc", "--version"]),
            "wrk": first_line(["wrk", "-v"]).split(" [")[0], "python": python}


class CpuMeter:
    """CPU used while one configuration is measured: by the server, by wrk and this script, and by anything
    else on the machine (another build, say), so the report can say whether the machine was quiet."""

    def __init__(self, pid: int):
        self.pid = pid
        self.start = self.snapshot()

    def snapshot(self) -> tuple[float, float, float, float]:
        tick = os.sysconf("SC_CLK_TCK")
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        busy = sum(values[:3]) / tick  # user, nice, system (not interrupts: loopback traffic is counted there)
        server = process_cpu_s(self.pid)  # utime + stime, with the worker processes
        t = os.times()
        ours = t.user + t.system + t.children_user + t.children_system  # this script and wrk (waited for)
        return time.monotonic(), busy, server, ours

    def cores(self) -> dict:
        """Average cores used since the meter started, by whom."""
        end = self.snapshot()
        wall, busy, server, ours = (b - a for a, b in zip(self.start, end))
        return {"server": server / wall, "load_generator": ours / wall,
                "other": max(0.0, (busy - server - ours) / wall)}


class QuietWaiter:
    """Before each measured configuration, waits until the machine is idle apart from the (idle) server:
    over one second, less than 0.25 of a core busy. Waits at most 60 s at a time and `budget` seconds over
    the whole run; the report shows the CPU that other processes used during each measurement anyway."""

    def __init__(self, budget: int):
        self.left = float(budget)

    def wait(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")

        def busy_jiffies():
            with open("/proc/stat") as f:
                return sum(int(v) for v in f.readline().split()[1:4])  # user, nice, system

        started, told = time.monotonic(), False
        while True:
            before = busy_jiffies()
            time.sleep(1.0)
            cores = (busy_jiffies() - before) / tick
            waited = time.monotonic() - started
            if cores < 0.25 or waited >= min(60.0, self.left):
                self.left -= waited
                return
            if not told:
                print(f"  (machine busy: {cores:.1f} cores used by other processes; waiting)", flush=True)
                told = True


# ---------------------------------------------------------------------------------------------------------
# The run

def parse_args() -> argparse.Namespace:
    def levels(text: str) -> list[int]:
        return [int(v) for v in text.split(",") if v]
    p = argparse.ArgumentParser(description="Side-by-side benchmark: easymlserve vs FastAPI + Uvicorn vs bare axum.")
    p.add_argument("--warmup", type=int, default=2,
                   help="echo: seconds of the warm-up run before each concurrency (default 2)")
    p.add_argument("--duration", type=int, default=8, help="echo: seconds of each measured run (default 8)")
    p.add_argument("--forecast-warmup", type=int, default=6,
                   help="forecasting: least seconds of each run before its measured window (default 6; longer at "
                        "high concurrency, see measure_forecast)")
    p.add_argument("--forecast-duration", type=int, default=10,
                   help="forecasting: seconds of each measured window (default 10)")
    p.add_argument("--runs", type=int, default=3,
                   help="measured runs per configuration; medians are reported (default 3)")
    p.add_argument("--cold-starts", type=int, default=3,
                   help="starts per service for the cold-start median (default 3)")
    p.add_argument("--echo-concurrency", type=levels, default=[1, 16, 64], help="default 1,16,64")
    p.add_argument("--forecast-concurrency", type=levels, default=[1, 16, 64], help="default 1,16,64")
    p.add_argument("--per-model-requests", type=int, default=20, help="sequential requests per model set (default 20)")
    p.add_argument("--sample", default="2019-01.csv", help="month of examples/load-forecasting/samples to send")
    p.add_argument("--wrk-timeout", type=int, default=30, help="seconds before wrk counts a request as timed out")
    p.add_argument("--quiet-wait", type=int, default=300,
                   help="seconds the whole run may wait for other processes to go idle before a measurement "
                        "(at most 60 s at a time; default 300)")
    p.add_argument("--only", choices=["echo", "forecast", "python", "python-overhead"],
                   help="measure one part only: echo, forecast (Rust and FastAPI), or python (the Python forecasting "
                        "example on FastAPI and on Python workers beside the Rust example, and the worker overhead), or "
                        "python-overhead (the worker overhead alone, a few minutes)")
    p.add_argument("--overhead-runs", type=int, default=5,
                   help="python: runs of `--duration` s at concurrency 1 for the worker overhead (default 5)")
    p.add_argument("--out", type=Path, default=RESULTS / "compare-latest.md",
                   help="report file (raw figures beside it as .json)")
    return p.parse_args()


def measure_cold_starts(selected: list[Service], bodies: dict, hours: int, count: int, results: dict,
                        quiet: QuietWaiter) -> dict:
    """Phase 1: spawn -> first 200 on the health URL, `count` times per service; keeps the first answers."""
    answers = {}
    for svc in selected:
        quiet.wait()
        seconds = []
        for i in range(count):
            server = Server(svc, f"{svc.key}-start{i + 1}")
            try:
                seconds.append(server.wait_ready())
                if i == 0:
                    answers[svc.key] = ask(svc, bodies[svc.workload])
                    check_answer(svc, answers[svc.key], hours)
            finally:
                server.stop()
        results[svc.key] = {"workload": svc.workload, "stack": svc.stack, "cold_starts_s": seconds,
                            "cold_start_s": statistics.median(seconds)}
        print(f"  {svc.key:22} cold start {statistics.median(seconds) * 1000:8.1f} ms (median of {count}); "
              "answer checked", flush=True)
    return answers


def measure_forecast(svc: Service, args, body: bytes, first_answer: dict, sample: Path, result: dict,
                     quiet: QuietWaiter) -> None:
    """Phase 2 for one forecasting server: answer check, per-model timings, wrk runs, peak RSS.

    Per concurrency, `--runs` windowed runs, each a warm-up and a measured window on the same connections
    (see WRK_WINDOW). After every run the server is drained, so the next starts on an idle server."""
    server = Server(svc, f"{svc.key}-load")
    try:
        server.wait_ready()
        if not same_answer(ask(svc, body), first_answer):
            raise RuntimeError(f"{svc.key}: the answer changed between two starts")
        result["per_model"] = per_model_ms(svc, server.proc.pid, sample, args.per_model_requests)
        result["load"] = {}
        previous_rps = None
        for c in args.forecast_concurrency:
            quiet.wait()
            meter = CpuMeter(server.proc.pid)
            # The warm-up must outlast the first round of answers: at least 1.5 times the latency
            # expected from the previous level's throughput (c / requests/s), and `--forecast-warmup`.
            warmup = args.forecast_warmup
            if previous_rps:
                warmup = max(warmup, math.ceil(1.5 * c / previous_rps))
            script = wrk_script(LOGS, f"{svc.key}-c{c}", body, (warmup, args.forecast_duration))
            runs = []
            for _ in range(args.runs):
                runs.append(run_wrk(server, script, c, warmup + args.forecast_duration, args.wrk_timeout, True))
                drain(svc, body)
            result["load"][str(c)] = m = summarise(runs)
            m["warmup_s"] = warmup
            m["cpu_cores"] = meter.cores()
            previous_rps = m["rps"]
            print(f"  {svc.key:22} c={c:<3} {m['rps']:10.1f} req/s  p50 {(m['p50_us'] or 0) / 1000:8.2f} ms  "
                  f"p99 {(m['p99_us'] or 0) / 1000:8.2f} ms  non-2xx {m['non_2xx']}", flush=True)
        result["peak_rss_kb"] = server.peak_rss_kb()
    finally:
        server.stop()


def measure_echo_interleaved(svcs: list[Service], args, body: bytes, answers: dict, results: dict,
                             quiet: QuietWaiter) -> None:
    """Phase 2 for the echo servers together: all up at once, the runs of one concurrency taken in turns."""
    servers = {}
    try:
        for svc in svcs:
            servers[svc.key] = server = Server(svc, f"{svc.key}-load")
            server.wait_ready()
            if not same_answer(ask(svc, body), answers[svc.key]):
                raise RuntimeError(f"{svc.key}: the answer changed between two starts")
            results[svc.key]["load"] = {}
        scripts = {svc.key: wrk_script(LOGS, svc.key, body) for svc in svcs}
        for c in args.echo_concurrency:
            quiet.wait()
            for svc in svcs:
                run_wrk(servers[svc.key], scripts[svc.key], c, args.warmup, args.wrk_timeout)  # not recorded
                drain(svc, body)
            runs = {svc.key: [] for svc in svcs}
            cpu = {svc.key: [] for svc in svcs}
            for _ in range(args.runs):
                for svc in svcs:
                    meter = CpuMeter(servers[svc.key].proc.pid)
                    runs[svc.key].append(run_wrk(servers[svc.key], scripts[svc.key], c, args.duration,
                                                 args.wrk_timeout))
                    cpu[svc.key].append(meter.cores())
                    drain(svc, body)
            for svc in svcs:
                results[svc.key]["load"][str(c)] = m = summarise(runs[svc.key])
                m["warmup_s"] = args.warmup
                m["cpu_cores"] = {k: statistics.mean(d[k] for d in cpu[svc.key]) for k in cpu[svc.key][0]}
                print(f"  {svc.key:22} c={c:<3} {m['rps']:10.1f} req/s  p50 {(m['p50_us'] or 0) / 1000:8.2f} ms  "
                      f"p99 {(m['p99_us'] or 0) / 1000:8.2f} ms  non-2xx {m['non_2xx']}", flush=True)
        for svc in svcs:
            results[svc.key]["peak_rss_kb"] = servers[svc.key].peak_rss_kb()
    finally:
        for server in servers.values():
            server.stop()


def measure_overhead(svcs: list[Service], args, body: bytes, quiet: QuietWaiter) -> dict:
    """The worker protocol's own cost: the Python echo through one worker at concurrency 1 (mean time per
    request, 1 / requests/s, over `--overhead-runs` runs taken in turns with the Rust echo, which gives the
    HTTP part alone) minus the same echo called in-process (bench/python/echo_inprocess.py)."""
    servers, runs = {}, {svc.key: [] for svc in svcs}
    try:
        for svc in svcs:
            servers[svc.key] = server = Server(svc, f"{svc.key}-overhead")
            server.wait_ready()
            check_answer(svc, ask(svc, body), 0)
        scripts = {svc.key: wrk_script(LOGS, f"{svc.key}-overhead", body) for svc in svcs}
        quiet.wait()
        for svc in svcs:
            run_wrk(servers[svc.key], scripts[svc.key], 1, args.warmup, args.wrk_timeout)  # warm-up, not recorded
        for _ in range(args.overhead_runs):
            for svc in svcs:
                runs[svc.key].append(run_wrk(servers[svc.key], scripts[svc.key], 1, args.duration, args.wrk_timeout))
    finally:
        for server in servers.values():
            server.stop()
    inprocess = subprocess.run([str(VENV_BIN / "python"), str(BENCH / "python" / "echo_inprocess.py")],
                               capture_output=True, text=True, check=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT / "python")})
    local = json.loads(inprocess.stdout.strip().splitlines()[-1])
    worker, rust = (summarise(runs[k]) for k in ("echo-python-workers", "echo-easymlserve"))
    result = {
        "worker_request_us": 1e6 / worker["rps"], "worker_p50_us": worker["p50_us"], "worker_p99_us": worker["p99_us"],
        "worker_server_cpu_us": worker["server_cpu_us"],
        "rust_request_us": 1e6 / rust["rps"], "rust_p50_us": rust["p50_us"],
        "process_us": local["process_us"], "sdk_us": local["sdk_us"],
        "worker": worker, "rust": rust,
    }
    result["overhead_us"] = result["worker_request_us"] - result["process_us"]
    print(f"  overhead: worker {result['worker_request_us']:.0f} us per request at c=1, Rust echo "
          f"{result['rust_request_us']:.0f} us, in-process process() {result['process_us']:.1f} us, SDK path "
          f"{result['sdk_us']:.1f} us -> overhead {result['overhead_us']:.0f} us", flush=True)
    return result


def summarise(runs: list[dict]) -> dict:
    """Medians over the runs (of the runs where anything completed, for latency), min-max of requests/s,
    and total non-2xx responses and socket errors."""
    def median_of(key):
        values = [r[key] for r in runs if r[key] is not None]
        return statistics.median(values) if values else None
    rps = [r["rps"] for r in runs]
    return {"rps": statistics.median(rps), "rps_min": min(rps), "rps_max": max(rps), "p50_us": median_of("p50_us"),
            "server_cpu_us": median_of("server_cpu_us"),
            "p99_us": median_of("p99_us"), "requests": sum(r["requests"] for r in runs),
            "non_2xx": sum(r["non_2xx"] for r in runs), "socket_errors": sum(r["socket_errors"] for r in runs),
            "runs": runs}


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    atexit.register(stop_all)
    LOGS.mkdir(parents=True, exist_ok=True)
    selected = [s for s in services() if args.only is None or args.only in s.groups]
    started = time.monotonic()

    if args.only != "python-overhead":  # the overhead needs no forecasting models
        prepare_models(skip_python=args.only == "echo")
    sample = FORECAST_DIR / "samples" / args.sample
    with open(sample) as f:
        hours = sum(1 for _ in f) - 1
    bodies = {"echo": json.dumps(ECHO_BODY).encode(), "overhead": json.dumps(ECHO_BODY).encode(),
              "forecast": forecast_body(sample, FORECAST_MODELS)}
    results = {"meta": versions(), "settings": {k: str(v) for k, v in vars(args).items()}, "sample_hours": hours,
               "services": {}}
    results["meta"]["loadavg_before"] = os.getloadavg()

    try:
        print("Cold starts and answer checks:", flush=True)
        quiet = QuietWaiter(args.quiet_wait)
        answers = measure_cold_starts(selected, bodies, hours, args.cold_starts, results["services"], quiet)
        if {"forecast-easymlserve", "forecast-fastapi"} <= answers.keys():
            results["forecast_differences_mw"] = compare_forecasts(answers["forecast-easymlserve"],
                                                                   answers["forecast-fastapi"])
        if {"forecast-fastapi", "forecast-python-workers"} <= answers.keys():
            # The same code on the same model files: the same forecasts, whichever server runs them.
            if not same_answer(answers["forecast-fastapi"], answers["forecast-python-workers"]):
                raise RuntimeError("the Python forecasting example answers differently on FastAPI and on workers")
        print("Load (wrk):", flush=True)
        echo = [svc for svc in selected if svc.workload == "echo"]
        if echo and args.only not in ("python", "python-overhead"):
            measure_echo_interleaved(echo, args, bodies["echo"], answers, results["services"], quiet)
        overhead = [svc for svc in selected if svc.key in ("echo-python-workers", "echo-easymlserve")]
        if len(overhead) == 2:
            results["overhead"] = measure_overhead(overhead, args, bodies["echo"], quiet)
        for svc in selected:
            if svc.workload == "forecast":
                measure_forecast(svc, args, bodies["forecast"], answers[svc.key], sample, results["services"][svc.key],
                                 quiet)
    finally:
        stop_all()
    results["meta"]["loadavg_after"] = os.getloadavg()
    results["meta"]["minutes"] = (time.monotonic() - started) / 60

    report = render(results)
    print("\n" + report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"Written to {args.out} (raw figures in {args.out.with_suffix('.json').name}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
