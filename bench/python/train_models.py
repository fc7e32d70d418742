"""Why this exists: trains the FastAPI forecasting service's models for bench/compare.sh, with scikit-learn,
from the same CSV, features, split and settings as `load-forecasting train` (the Rust example):

- LR: LinearRegression() on every training row;
- SVR: SVR() (RBF kernel, C=1, epsilon=0.1, gamma="scale") on every 5th training row, as the Rust
  example fits smartcore's SVR on every 5th row;
- RF: RandomForestRegressor(n_estimators=100, random_state=42), all features at each split
  (scikit-learn's default for regression, as the Rust example sets), unlimited depth.

Training rows are the hours before 2019, test rows the rest. Writes lr.pkl, svr.pkl, rf.pkl and
meta.json (versions, scores) into the models folder. Run: `python train_models.py [--models DIR]`.
"""

import argparse
import csv
import json
import os
import pickle
import sys
import time

import numpy as np
import sklearn
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LinearRegression
from sklearn.svm import SVR

from forecast_features import LOAD_STD, denormalise, parse_utc, training_set

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLE = os.path.join(HERE, "..", "..", "examples", "load-forecasting")
DEFAULT_DATA = os.path.join(EXAMPLE, "data", "german-load-synthetic-2015-2020.csv")
DEFAULT_MODELS = os.path.join(HERE, "models")
SVR_STRIDE = 5
TEST_FROM_YEAR = 2019


def read_series(path: str):
    """The (time, load) rows of a `time,energy` CSV, checked to be hourly without gaps."""
    moments, load = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            moments.append(parse_utc(row["time"]))
            load.append(float(row["energy"]))
    for before, after in zip(moments, moments[1:]):
        if (after - before).total_seconds() != 3600:
            sys.exit(f"{path}: not hourly between {before} and {after}")
    return moments, np.array(load)


def scores(truth: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """MAE in MW and MAPE in percent of normalised truth and prediction."""
    t, p = denormalise(truth), denormalise(predicted)
    return float(np.mean(np.abs(t - p))), float(100 * np.mean(np.abs((t - p) / t)))


def main() -> None:
    parser = argparse.ArgumentParser(description="Train LR, SVR and RF for the FastAPI forecasting service.")
    parser.add_argument("--data", default=DEFAULT_DATA, help="training CSV with columns time,energy")
    parser.add_argument("--models", default=DEFAULT_MODELS, help="folder to write the model files to")
    args = parser.parse_args()

    moments, load = read_series(args.data)
    x, y, at = training_set(moments, load)
    is_train = np.array([m.year < TEST_FROM_YEAR for m in at])
    x_train, y_train, x_test, y_test = x[is_train], y[is_train], x[~is_train], y[~is_train]
    print(f"{len(y_train)} training rows, {len(y_test)} test rows", flush=True)

    fits = {
        "lr": (LinearRegression(), x_train, y_train),
        "svr": (SVR(kernel="rbf", C=1.0, epsilon=0.1, gamma="scale"), x_train[::SVR_STRIDE], y_train[::SVR_STRIDE]),
        # n_jobs=-1 only makes the fit use both cores; the service sets its own n_jobs after loading.
        "rf": (RandomForestRegressor(n_estimators=100, max_features=1.0, random_state=42, n_jobs=-1), x_train, y_train),
    }
    os.makedirs(args.models, exist_ok=True)
    report = {"sklearn": sklearn.__version__, "numpy": np.__version__, "train_rows": int(len(y_train)), "models": {}}
    for name, (model, xs, ys) in fits.items():
        started = time.perf_counter()
        model.fit(xs, ys)
        seconds = time.perf_counter() - started
        mae, mape = scores(y_test, model.predict(x_test))
        with open(os.path.join(args.models, f"{name}.pkl"), "wb") as f:
            pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
        report["models"][name] = {"rows": int(len(ys)), "fit_seconds": seconds, "mae_mw": mae, "mape_percent": mape}
        print(f"{name:4} rows {len(ys):6}  fit {seconds:6.1f} s  MAE {mae:6.0f} MW ({mae / LOAD_STD:.3f})  "
              f"MAPE {mape:5.2f} %", flush=True)
    # Written last: its presence says the three model files are complete.
    with open(os.path.join(args.models, "meta.json"), "w") as f:
        json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
