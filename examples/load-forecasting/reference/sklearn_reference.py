"""Why this exists: the scikit-learn reference for the load-forecasting example.

Fits the original EasyMLServe example's three models (scikit-learn defaults: LinearRegression, SVR with
an RBF kernel, C=1, epsilon=0.1, gamma="scale", and RandomForestRegressor with 100 trees) on the same
data and features as the Rust training command, and prints MAE and MAPE on the test years, so the README
can put both side by side. Run it with `reference/run.sh` (it makes a virtualenv from PyPI).
"""

import argparse
import csv
import json
import math
import os
import sys
import time
from datetime import datetime, timedelta, timezone

import numpy as np
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.svm import SVR

LOAD_MEAN = 55_492.0
LOAD_STD = 10_015.0


def read_series(path):
    """Hourly (time, load) rows of a `time,energy` CSV; the file must be gap-free."""
    times, load = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            times.append(datetime.fromisoformat(row["time"].replace("Z", "+00:00")).astimezone(timezone.utc))
            load.append(float(row["energy"]))
    for a, b in zip(times, times[1:]):
        if b - a != timedelta(hours=1):
            sys.exit(f"not hourly between {a} and {b}")
    return times, np.array(load)


def features(times, load):
    """Rows for hours k = 23 .. n-25: lags 0..23, weekend of k+24h, sin/cos of hour and day of year."""
    norm = (load - LOAD_MEAN) / LOAD_STD
    rows, target, at = [], [], []
    for k in range(23, len(load) - 24):
        t = times[k]
        later = t + timedelta(hours=24)
        hour = 2 * math.pi * t.hour / 24
        day = 2 * math.pi * t.timetuple().tm_yday / 366
        rows.append(
            [norm[k - i] for i in range(24)]
            + [1.0 if later.weekday() >= 5 else 0.0, math.sin(hour), math.cos(hour), math.sin(day), math.cos(day)]
        )
        target.append(norm[k + 24])
        at.append(t)
    return np.array(rows), np.array(target), at


def scores(truth, predicted):
    t = truth * LOAD_STD + LOAD_MEAN
    p = predicted * LOAD_STD + LOAD_MEAN
    return float(np.mean(np.abs(t - p))), float(100 * np.mean(np.abs((t - p) / t)))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=os.path.join(here, "..", "data", "german-load-synthetic-2015-2020.csv"))
    parser.add_argument("--svr-stride", type=int, default=5, help="fit the SVR on every N-th training row")
    parser.add_argument("--svr-full", action="store_true", help="also fit the SVR on all training rows (slow)")
    parser.add_argument("--out", default=os.path.join(here, "out", "sklearn.json"))
    args = parser.parse_args()

    times, load = read_series(args.data)
    x, y, at = features(times, load)
    train = np.array([t.year < 2019 for t in at])
    x_train, y_train, x_test, y_test = x[train], y[train], x[~train], y[~train]
    print(f"{len(y_train)} training rows, {len(y_test)} test rows")

    runs = [
        ("LR", LinearRegression(), x_train, y_train),
        (f"SVR (every {args.svr_stride}th row)", SVR(), x_train[:: args.svr_stride], y_train[:: args.svr_stride]),
        ("RF", RandomForestRegressor(n_estimators=100, random_state=42, n_jobs=-1), x_train, y_train),
    ]
    if args.svr_full:
        runs.append(("SVR (all rows)", SVR(), x_train, y_train))
    results = []
    for name, model, xs, ys in runs:
        started = time.time()
        model.fit(xs, ys)
        seconds = time.time() - started
        mae, mape = scores(y_test, model.predict(x_test))
        results.append({"model": name, "train_rows": len(ys), "fit_seconds": seconds, "mae_mw": mae, "mape_percent": mape})
        print(f"{name:24} rows {len(ys):6}  fit {seconds:7.1f} s  MAE {mae:6.0f} MW  MAPE {mape:5.2f} %", flush=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
