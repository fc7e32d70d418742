"""Why this exists: turns the raw figures of bench/compare.py into the Markdown report (tables, ratios and
the issue #7 targets with PASS/MISS), kept apart from the code that starts servers and drives wrk."""

ORDER = ["echo-easymlserve", "echo-axum", "echo-fastapi", "echo-python-workers", "forecast-easymlserve",
         "forecast-fastapi", "forecast-python-workers"]
NAMES = {"echo": "echo", "forecast": "forecasting", "overhead": "Python echo"}


def latency(us: float | None) -> str:
    if us is None:
        return "-"
    if us < 1000:
        return f"{us:.0f} us"
    if us < 1_000_000:
        return f"{us / 1000:.2f} ms"
    return f"{us / 1_000_000:.2f} s"


def rate(rps: float) -> str:
    return f"{rps:,.0f}" if rps >= 100 else f"{rps:.1f}"


def load_at(services: dict, key: str, c: int) -> dict | None:
    return services.get(key, {}).get("load", {}).get(str(c))


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def throughput_table(services: dict) -> list[str]:
    lines = ["| workload | server | concurrency | requests/s | (min-max of runs) | p50 | p99 | non-2xx | socket errors "
             "| server CPU per request | warm-up | CPU: server / wrk / other |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for key in ORDER:
        s = services.get(key)
        for c, m in (s or {}).get("load", {}).items():
            lines.append(f"| {NAMES[s['workload']]} | {s['stack']} | {c} | {rate(m['rps'])} | "
                         f"{rate(m['rps_min'])}-{rate(m['rps_max'])} | {latency(m['p50_us'])} | "
                         f"{latency(m['p99_us'])} | "
                         f"{m['non_2xx']} | {m['socket_errors']} | {latency(m.get('server_cpu_us'))} | "
                         f"{m.get('warmup_s', '-')} s | {cores(m.get('cpu_cores'))} |")
    return lines


def cores(cpu: dict | None) -> str:
    return f"{cpu['server']:.2f} / {cpu['load_generator']:.2f} / {cpu['other']:.2f}" if cpu else "-"


def startup_table(services: dict, starts: str) -> list[str]:
    lines = [f"| workload | server | cold start (median of {starts}) | all starts | peak RSS |",
             "|---|---|---:|---|---:|"]
    for key in ORDER:
        s = services.get(key)
        if not s:
            continue
        all_starts = ", ".join(f"{v * 1000:.0f}" for v in s["cold_starts_s"]) + " ms"
        rss = f"{s['peak_rss_kb'] / 1024:.1f} MB" if "peak_rss_kb" in s else "-"
        lines.append(f"| {NAMES[s['workload']]} | {s['stack']} | {s['cold_start_s'] * 1000:.0f} ms | {all_starts} | "
                     f"{rss} |")
    return lines


def per_model_table(services: dict, requests: str) -> list[str]:
    rows = [k for k in ("forecast-easymlserve", "forecast-fastapi", "forecast-python-workers")
            if "per_model" in services.get(k, {})]
    if not rows:
        return []
    sets = list(services[rows[0]]["per_model"])
    lines = [f"One request at a time (keep-alive), {requests} requests per model set; each request carries the whole "
             "month and gets 721 forecasts per model. Latency: median. CPU: the server's CPU time per request, all "
             "its threads, from /proc in 10 ms ticks over all the requests (hardly changed by other load; 2 cores "
             "serve at most 2000 / CPU ms requests/s).",
             "",
             "| server | " + " | ".join(s.replace("+", " + ") for s in sets) + " |",
             "|---|" + "---:|" * len(sets)]
    for key in rows:
        t = services[key]["per_model"]
        lines.append(f"| {services[key]['stack']}: latency / CPU | "
                     + " | ".join(f"{t[s]['wall_ms']:.1f} / {t[s]['cpu_ms']:.0f} ms" for s in sets) + " |")
    if rows[:2] == ["forecast-easymlserve", "forecast-fastapi"]:
        a, b = (services[k]["per_model"] for k in rows[:2])
        lines.append("| FastAPI / easymlserve: latency / CPU | " + " | ".join(
            f"{b[s]['wall_ms'] / a[s]['wall_ms']:.1f}x / "
            + (f"{b[s]['cpu_ms'] / a[s]['cpu_ms']:.1f}x" if a[s]["cpu_ms"] else "-")
            for s in sets) + " |")
    return lines


def ratios_table(services: dict) -> list[str]:
    levels = sorted({int(c) for s in services.values() for c in s.get("load", {})})
    rows = [
        ("echo requests/s: easymlserve / FastAPI", "echo-easymlserve", "echo-fastapi", "rps", False, "x"),
        ("echo p99: FastAPI / easymlserve", "echo-fastapi", "echo-easymlserve", "p99_us", False, "x"),
        ("echo requests/s: easymlserve / bare axum", "echo-easymlserve", "echo-axum", "rps", True, "%"),
        ("forecasting requests/s: easymlserve / FastAPI", "forecast-easymlserve", "forecast-fastapi", "rps", False,
         "x"),
        ("forecasting p99: FastAPI / easymlserve", "forecast-fastapi", "forecast-easymlserve", "p99_us", False, "x"),
        ("Python forecasting requests/s: Python workers / FastAPI", "forecast-python-workers", "forecast-fastapi",
         "rps", False, "x"),
        ("Python forecasting p99: FastAPI / Python workers", "forecast-fastapi", "forecast-python-workers", "p99_us",
         False, "x"),
        ("forecasting requests/s: Rust example / Python on workers", "forecast-easymlserve",
         "forecast-python-workers", "rps", False, "x"),
    ]
    lines = ["| ratio | " + " | ".join(f"c={c}" for c in levels) + " |", "|---|" + "---:|" * len(levels)]
    for label, top, bottom, metric, percent, unit in rows:
        cells = []
        for c in levels:
            a, b = load_at(services, top, c), load_at(services, bottom, c)
            r = ratio(a and a[metric], b and b[metric])
            cells.append("-" if r is None else (f"{100 * r:.0f} %" if percent else f"{r:.1f}{unit}"))
        if any(cell != "-" for cell in cells):
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def targets_table(services: dict) -> tuple[list[str], list[str]]:
    """The issue #7 targets; returns the table and the names of the missed ones."""
    def get(key, c, metric):
        m = load_at(services, key, c)
        return m and m[metric]

    echo = services.get("echo-easymlserve", {})
    checks = [
        ("echo requests/s >= 10x FastAPI at c=64",
         ratio(get("echo-easymlserve", 64, "rps"), get("echo-fastapi", 64, "rps")),
         lambda r: r >= 10, lambda r: f"{r:.1f}x"),
        ("echo p99 <= 1/5 of FastAPI's at c=64",
         ratio(get("echo-easymlserve", 64, "p99_us"), get("echo-fastapi", 64, "p99_us")),
         lambda r: r <= 0.2, lambda r: f"1/{1 / r:.1f}" if r else "0"),
        ("echo requests/s >= 70 % of bare axum at c=64",
         ratio(get("echo-easymlserve", 64, "rps"), get("echo-axum", 64, "rps")),
         lambda r: r >= 0.7, lambda r: f"{100 * r:.0f} %"),
        ("forecasting requests/s >= 3x FastAPI at c=16",
         ratio(get("forecast-easymlserve", 16, "rps"), get("forecast-fastapi", 16, "rps")),
         lambda r: r >= 3, lambda r: f"{r:.1f}x"),
        ("echo cold start < 100 ms", echo.get("cold_start_s"), lambda v: v < 0.1, lambda v: f"{v * 1000:.0f} ms"),
        ("echo peak RSS < 30 MB", echo.get("peak_rss_kb"), lambda v: v < 30 * 1024, lambda v: f"{v / 1024:.1f} MB"),
    ]
    lines = ["| target | measured | result |", "|---|---:|---|"]
    missed = []
    for name, value, passes, show in checks:
        if value is None:
            lines.append(f"| {name} | not measured | - |")
            continue
        ok = passes(value)
        lines.append(f"| {name} | {show(value)} | {'PASS' if ok else 'MISS'} |")
        if not ok:
            missed.append(name)
    return lines, missed


def python_targets_table(services: dict, overhead: dict | None) -> tuple[list[str], list[str]]:
    """The issue #13 targets of the Python worker backend; returns the table and the missed ones."""
    def get(key, c):
        m = load_at(services, key, c)
        return m and m["rps"]

    checks = [
        ("Python forecasting on 2 workers >= 2x FastAPI + Uvicorn (requests/s, c=16)",
         ratio(get("forecast-python-workers", 16), get("forecast-fastapi", 16)), lambda r: r >= 2,
         lambda r: f"{r:.2f}x"),
        ("worker overhead < 100 us per request at c=1 (Python echo through a worker minus in-process)",
         overhead and overhead["overhead_us"], lambda v: v < 100, lambda v: f"{v:.0f} us"),
    ]
    lines = ["| target | measured | result |", "|---|---:|---|"]
    missed = []
    for name, value, passes, show in checks:
        if value is None:
            lines.append(f"| {name} | not measured | - |")
            continue
        ok = passes(value)
        lines.append(f"| {name} | {show(value)} | {'PASS' if ok else 'MISS'} |")
        if not ok:
            missed.append(name)
    return lines, missed


def overhead_lines(o: dict) -> list[str]:
    """Where the time of one Python echo request goes, at concurrency 1."""
    return [
        "| per request at c=1 | time |",
        "|---|---:|",
        f"| Python echo through a worker (HTTP, Rust server, socket, SDK, process) | {o['worker_request_us']:.0f} us |",
        f"| Rust echo, same server, no worker (HTTP and the Rust server alone) | {o['rust_request_us']:.0f} us |",
        f"| in-process: the SDK's path (JSON frame in, validate, process, encode, JSON out) | {o['sdk_us']:.1f} us |",
        f"| in-process: `process()` alone | {o['process_us']:.1f} us |",
        f"| overhead: through a worker minus `process()` in-process | {o['overhead_us']:.0f} us |",
        f"| of which beyond the Rust echo's HTTP path | {o['worker_request_us'] - o['rust_request_us'] - o['process_us']:.0f} us |",
        "",
        f"Server CPU per Python echo request (Rust server and worker together): "
        f"{latency(o['worker_server_cpu_us'])}; p50 {latency(o['worker_p50_us'])}, p99 {latency(o['worker_p99_us'])}.",
    ]


def method(results: dict) -> str:
    """How the load was made, for the workloads that were measured."""
    settings, workloads = results["settings"], {s["workload"] for s in results["services"].values()}
    text = "All on 127.0.0.1, driven by wrk; every figure is the median over the runs."
    if "echo" in workloads:
        text += (" Echo: the three servers run side by side, each idle while another is loaded; body "
                 "`{\"text\": \"hello \", \"repeat\": 3}`; per concurrency a "
                 f"{settings['warmup']} s warm-up run of each, then {settings['runs']} runs of {settings['duration']} s "
                 "taken in turns (run 1 of every server, then run 2, ...; wrk: 1 "
                 "thread at concurrency 1, else 2), figures from wrk's summary.")
    if "forecast" in workloads:
        text += " Forecasting: one server at a time."
    if "forecast" in workloads:
        text += (f" Forecasting: body `samples/{settings['sample']}` ({results['sample_hours']} hours) with LR, SVR "
                 f"and RF in one request; {settings['runs']} runs, each one wrk run with one thread per connection: a "
                 f"warm-up of at least {settings['forecast_warmup']} s and 1.5 times the latency expected from the "
                 f"previous concurrency, then a {settings['forecast_duration']} s window in which every completed "
                 "response is counted and timed (a server that shares its CPU among many requests answers none for "
                 "the first seconds of a run; the window measures its steady state). The server is drained after "
                 "every run.")
    if "overhead" in workloads:
        text += (f" Worker overhead: the Python echo (bench/python/echo_service.py) through one worker and the Rust "
                 f"echo side by side at concurrency 1, {settings['overhead_runs']} runs of {settings['duration']} s "
                 "in turns after a warm-up; the in-process times from bench/python/echo_inprocess.py (median of 5 "
                 "rounds of 20,000 calls).")
    return text


def render(results: dict) -> str:
    meta, settings, services = results["meta"], results["settings"], results["services"]
    out = [
        "# easymlserve vs FastAPI + Uvicorn vs bare axum",
        "",
        f"Run of {meta['date']} ({meta['minutes']:.1f} min) on {meta['cpu']}, {meta['cores']} cores shared by the load "
        f"generator and the server, Linux {meta['kernel']}; {meta['rustc']}, release builds; {meta['wrk']}; "
        f"{meta['python']}. Load average before/after: "
        f"{meta['loadavg_before'][0]:.2f} / {meta['loadavg_after'][0]:.2f}.",
        "",
        method(results),
        "",
        "## Throughput and latency",
        "",
        *throughput_table(services),
        "",
        "Server CPU per request: the server's CPU time (all threads, from /proc) over a run divided by the requests "
        "answered (echo only). CPU: average cores in use while a row was measured, by the server, by wrk and this "
        "harness, and by any other process on the machine (a row with much `other` was measured on a busy machine).",
        "",
        "## Start-up and memory",
        "",
        "Cold start: process spawn to the first 200 on `/health/ready` (easymlserve, axum) or `/health` (FastAPI). "
        "Peak RSS: VmHWM of the server process after all its runs.",
        "",
        *startup_table(services, settings["cold_starts"]),
        "",
    ]
    per_model = per_model_table(services, settings["per_model_requests"])
    if per_model:
        out += ["## Forecasting: time per model", "", *per_model, ""]
    busy = [f"{NAMES[s['workload']]} {s['stack']} c={c} ({m['cpu_cores']['other']:.2f})"
            for key in ORDER if (s := services.get(key)) for c, m in s.get("load", {}).items()
            if m.get("cpu_cores", {}).get("other", 0) > 0.25]
    if busy:
        out += ["Measured while other processes used more than a quarter of a core (cores in brackets), so slower "
                "than on a quiet machine: " + "; ".join(busy) + ".", ""]
    out += ["## Ratios", "", *ratios_table(services), ""]
    diffs = results.get("forecast_differences_mw")
    checked = "Answers checked before measuring: the echo text is identical on every server"
    if diffs:
        checked += (f"; both forecasting servers give {results['sample_hours'] - 23} forecasts per model with the same "
                    f"timestamps, LR differs by at most {diffs['LR']['max_mw']:.1f} MW, "
                    f"SVR by {diffs['SVR']['mean_mw']:.0f} MW "
                    f"and RF by {diffs['RF']['mean_mw']:.0f} MW on average (different solvers and random draws)")
    out += [checked + ".", ""]
    if "overhead" in results:
        out += ["## Worker overhead (Python echo)", "", *overhead_lines(results["overhead"]), ""]
    if any(k in services for k in ("forecast-python-workers", "echo-python-workers")):
        targets, python_missed = python_targets_table(services, results.get("overhead"))
        out += ["## Targets (issue #13, Python workers)", "", *targets, ""]
    else:
        python_missed = []
    out += ["## Targets (issue #7)", ""]
    targets, missed = targets_table(services)
    missed += python_missed
    out += targets + [""]
    if missed:
        out += [f"Missed: {'; '.join(missed)}. See BENCHMARKS.md for where the time goes.", ""]
    return "\n".join(out)
