"""Trains the Python forecasting example's models with scikit-learn, from the same CSV, features, split and
settings as `load-forecasting train` (the Rust example):

- LR: LinearRegression() on every training row;
- SVR: SVR() (RBF kernel, C=1, epsilon=0.1, gamma="scale") on every 5th training row, as the Rust
  example fits smartcore's SVR on every 5th row;
- RF: RandomForestRegressor(n_estimators=100, random_state=42), all features at each split
  (scikit-learn's default for regression, as the Rust example sets), unlimited depth.

Training rows are the hours before 2019, test rows the rest. Writes lr.joblib, svr.joblib, rf.joblib and,
last, meta.json (versions, scores on the test years) into the models folder (default `models/` beside
this file). `--small` fits quick models for tests instead (2,000 hours spread over the training years, a 10-tree
forest; a few seconds), as the Rust example's tests do.

Run: `python train.py [--data CSV] [--models DIR] [--small]`; `service.py` runs it on its first start.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import joblib
import numpy as np
import sklearn
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.svm import SVR

from forecasting import DEFAULT_DATA, LOAD_STD, MODEL_FILES, denormalise, models_dir, read_series, training_set

SVR_STRIDE = 5
TEST_FROM_YEAR = 2019
SMALL_HOURS = 2_000


def scores(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """MAE in MW and MAPE in percent of normalised truth and prediction."""
    t, p = denormalise(truth), denormalise(predicted)
    return float(np.mean(np.abs(t - p))), float(100 * np.mean(np.abs((t - p) / t)))


def _save(model: object, path: str) -> None:
    # Written beside, then renamed: a reader never sees half a file.
    joblib.dump(model, path + ".tmp")
    os.replace(path + ".tmp", path)


def train(data: str, directory: str, small: bool = False) -> dict:
    """Fits LR, SVR and RF, saves them into `directory` and returns the report written to meta.json."""
    moments, load = read_series(data)
    x, y, at = training_set(moments, load)
    is_train = np.array([m.year < TEST_FROM_YEAR for m in at])
    x_train, y_train, x_test, y_test = x[is_train], y[is_train], x[~is_train], y[~is_train]
    trees = 100
    if small:
        # At most 2,000 rows at an even stride over the training years; the stride shares no factor with
        # the 168 hours of a week, so the sample meets every hour of the day and weekday.
        stride = max(1, -(-len(y_train) // SMALL_HOURS))
        while math.gcd(stride, 168) != 1:
            stride += 1
        x_train, y_train, trees = x_train[::stride], y_train[::stride], 10
    print(f"{len(y_train)} training rows, {len(y_test)} test rows", flush=True)

    fits = {
        "LR": (LinearRegression(), x_train, y_train),
        "SVR": (SVR(kernel="rbf", C=1.0, epsilon=0.1, gamma="scale"), x_train[::SVR_STRIDE], y_train[::SVR_STRIDE]),
        # n_jobs=-1 only makes the fit use every core; the service sets its own n_jobs after loading.
        "RF": (
            RandomForestRegressor(n_estimators=trees, max_features=1.0, random_state=42, n_jobs=-1),
            x_train,
            y_train,
        ),
    }
    os.makedirs(directory, exist_ok=True)
    report = {
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "small": small,
        "train_rows": int(len(y_train)),
        "test_rows": int(len(y_test)),
        "models": {},
    }
    for name, (model, xs, ys) in fits.items():
        started = time.perf_counter()
        model.fit(xs, ys)
        seconds = time.perf_counter() - started
        mae, mape = scores(y_test, model.predict(x_test))
        _save(model, os.path.join(directory, MODEL_FILES[name]))
        report["models"][name] = {"rows": int(len(ys)), "fit_seconds": seconds, "mae_mw": mae, "mape_percent": mape}
        print(
            f"{name:4} rows {len(ys):6}  fit {seconds:6.1f} s  MAE {mae:6.0f} MW ({mae / LOAD_STD:.3f})  "
            f"MAPE {mape:5.2f} %",
            flush=True,
        )
    # Written last: its presence says the three model files are complete.
    with open(os.path.join(directory, "meta.json.tmp"), "w") as f:
        json.dump(report, f, indent=2)
    os.replace(os.path.join(directory, "meta.json.tmp"), os.path.join(directory, "meta.json"))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description="Train LR, SVR and RF for the Python forecasting service.")
    parser.add_argument("--data", default=DEFAULT_DATA, help="training CSV with columns time,energy")
    parser.add_argument(
        "--models", default=models_dir(), help="folder to write the model files to (default: models/ here)"
    )
    parser.add_argument("--small", action="store_true", help="quick models for tests (2,000 hours, 10 trees)")
    args = parser.parse_args()
    try:
        train(args.data, args.models, args.small)
    except ValueError as err:
        sys.exit(str(err))


if __name__ == "__main__":
    main()
