"""The forecasting logic of the Python example, apart from any server: features, timestamps, request
checks, model files and prediction. `service.py` serves it with the easymlserve SDK, `train.py` fits the
models with it, and bench/python/forecast_app.py serves the very same code on FastAPI for the benchmark.

Everything here mirrors the Rust example (examples/load-forecasting/src): the features of `features.rs`,
the timestamp forms of `stamp.rs`, and the checks and messages of `service.rs`, so both services answer
the same request with the same JSON, and refuse the same requests with the same 422.

Features for hour k of an hourly UTC series, with n(x) = (x - 55,492) / 10,015: the lags n(load[k - i])
for i = 0..23, a weekend flag for the hour k + 24 h, and sin/cos of the hour of day over 24 and of the day
of year over 366. The target of a training row is n(load[k + 24]).
"""

from __future__ import annotations

import csv
import fcntl
import math
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional, Sequence

import numpy as np

LOAD_MEAN = 55_492.0
LOAD_STD = 10_015.0
WINDOW = 24  # hours of history per forecast
HORIZON = 24  # hours between the last input hour and the forecast hour
N_FEATURES = WINDOW + 5
MAX_HOURS = 100_000  # the most hours one request may hold, as in the Rust example
MODEL_NAMES = ("LR", "SVR", "RF")  # wire names, in the order the GUI lists them
MODEL_FILES = {"LR": "lr.joblib", "SVR": "svr.joblib", "RF": "rf.joblib"}
HOUR = timedelta(hours=1)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "..", "load-forecasting", "data", "german-load-synthetic-2015-2020.csv")
DEFAULT_MODELS = os.path.join(HERE, "models")


def models_dir() -> str:
    """Where the models are: `$PYTHON_FORECASTING_MODELS`, else `models/` beside this file."""
    return os.environ.get("PYTHON_FORECASTING_MODELS") or DEFAULT_MODELS


# ---------------------------------------------------------------------------------------------------------
# Features


def normalise(load_mw: np.ndarray) -> np.ndarray:
    return (load_mw - LOAD_MEAN) / LOAD_STD


def denormalise(values: np.ndarray) -> np.ndarray:
    return values * LOAD_STD + LOAD_MEAN


def calendar_features(moments: Sequence[datetime]) -> np.ndarray:
    """For each UTC hour: weekend flag of the hour a day later, and the hour-of-day and day-of-year
    terms of this hour (day of year counted from 1)."""
    weekend = np.array([1.0 if (m + timedelta(hours=HORIZON)).weekday() >= 5 else 0.0 for m in moments])
    hour = 2 * math.pi * np.array([m.hour for m in moments], dtype=float) / 24
    day = 2 * math.pi * np.array([m.timetuple().tm_yday for m in moments], dtype=float) / 366
    return np.column_stack([weekend, np.sin(hour), np.cos(hour), np.sin(day), np.cos(day)])


def feature_rows(moments: Sequence[datetime], load_mw: np.ndarray, last: int) -> np.ndarray:
    """Feature rows for the hours k = 23 .. last - 1 (row j is hour k = 23 + j), 29 columns each."""
    norm = normalise(np.asarray(load_mw, dtype=float))
    # Window j holds norm[j .. j + 23]; reversed, its column i is norm[k - i] with k = j + 23.
    lags = np.lib.stride_tricks.sliding_window_view(norm[:last], WINDOW)[:, ::-1]
    return np.hstack([lags, calendar_features(moments[WINDOW - 1 : last])])


def forecast_features(moments: Sequence[datetime], load_mw: np.ndarray) -> np.ndarray:
    """One row per hour from the 24th on: what a forecast request needs."""
    return feature_rows(moments, load_mw, len(load_mw))


def training_set(moments: Sequence[datetime], load_mw: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[datetime]]:
    """Rows for hours k = 23 .. n - 25 with their targets n(load[k + 24]) and the time of each hour k."""
    last = len(load_mw) - HORIZON
    x = feature_rows(moments, load_mw, last)
    y = normalise(np.asarray(load_mw[WINDOW - 1 + HORIZON :], dtype=float))
    return x, y, list(moments[WINDOW - 1 : last])


# ---------------------------------------------------------------------------------------------------------
# Timestamps: the forms the Rust example reads, written back 24 h later in the same form

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})([T ])(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{3}|\d{6}))?)?")
_GERMAN = re.compile(r"(\d{2})\.(\d{2})\.(\d{4}) (\d{2}):(\d{2})(?::(\d{2}))?")
_OFFSET = re.compile(r"[+-](\d{2}):(\d{2})")


@dataclass(frozen=True)
class Stamp:
    """A parsed timestamp that remembers how it was written."""

    utc: datetime  # aware, UTC
    local: datetime  # naive, as written
    form: str  # the strftime format that writes `local` back as it was written
    milliseconds: bool  # and then `.123` after it (strftime has no directive for milliseconds)
    suffix: str  # "Z", "z", "+01:00", ... or ""

    def shifted_text(self, hours: int) -> str:
        """This time plus `hours`, written in the same form (same offset)."""
        later = self.local + timedelta(hours=hours)
        ms = f".{later.microsecond // 1000:03d}" if self.milliseconds else ""
        return later.strftime(self.form) + ms + self.suffix


def _split_offset(text: str) -> Optional[tuple[str, str, timedelta]]:
    if text.endswith(("Z", "z")):
        return text[:-1], text[-1], timedelta(0)
    if len(text) > 6:
        body, suffix = text[:-6], text[-6:]
        # A date such as `2019-01-01` also ends in `-dd`; an offset follows a time, so needs a `:` before.
        match = _OFFSET.fullmatch(suffix)
        if match and ":" in body:
            hours, minutes = int(match.group(1)), int(match.group(2))
            if hours > 23 or minutes > 59:
                return None
            offset = timedelta(hours=hours, minutes=minutes)
            return body, suffix, -offset if suffix[0] == "-" else offset
    return text, "", timedelta(0)


def parse_stamp(text: str) -> Optional[Stamp]:
    """Reads `text` (ISO 8601 with `T` or a space, with or without seconds, milliseconds or microseconds,
    with `Z`, an offset or none; or `dd.mm.yyyy HH:MM[:SS]`); `None` if it is not a form we know. Naive
    times are read as UTC."""
    split = _split_offset(text)
    if split is None:
        return None
    body, suffix, offset = split
    milliseconds = False
    try:
        match = _ISO.fullmatch(body)
        if match:
            year, month, day, sep, hour, minute, second, fraction = match.groups()
            micro = 0 if fraction is None else int(fraction) * (1000 if len(fraction) == 3 else 1)
            local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro)
            form = f"%Y-%m-%d{sep}%H:%M" + (":%S" if second is not None else "")
            if fraction is not None and len(fraction) == 6:
                form += ".%f"
            milliseconds = fraction is not None and len(fraction) == 3
        else:
            match = _GERMAN.fullmatch(body)
            if not match:
                return None
            day, month, year, hour, minute, second = match.groups()
            local = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
            form = "%d.%m.%Y %H:%M" + (":%S" if second is not None else "")
    except ValueError:  # a month 13, a 30 February, an hour 24
        return None
    return Stamp((local - offset).replace(tzinfo=timezone.utc), local, form, milliseconds, suffix)


def parse_utc(text: str) -> datetime:
    """A timestamp of a training CSV as an aware UTC time; ValueError if it is not one we read."""
    stamp = parse_stamp(text)
    if stamp is None:
        raise ValueError(f"`{text}` is not a date and time")
    return stamp.utc


# ---------------------------------------------------------------------------------------------------------
# Request checks: the Rust example's, in the same order and with the same messages


class Refused(Exception):
    """A request that cannot be forecast: a 422 naming `field`. The servers turn it into their own error
    (the SDK's `InvalidInput`, FastAPI's JSON answer)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _describe_step(step: timedelta) -> str:
    seconds = int(step.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hours"
    return f"{seconds // 60} minutes"


@dataclass
class ValidRequest:
    """A request that passed every check: its models, parsed timestamps of consecutive hours, loads."""

    models: list[str]
    stamps: list[Stamp]
    energy: np.ndarray


def check(models: Sequence[str], time: Sequence[str], energy: Sequence[Optional[float]]) -> ValidRequest:
    """The checked request, or `Refused` for the first field that is wrong."""
    if len(time) < WINDOW:
        raise Refused("time", f"needs at least {WINDOW} hours to forecast from, got {len(time)}")
    if len(energy) != len(time):
        raise Refused(
            "energy",
            f"has {len(energy)} values but `time` has {len(time)} timestamps; give one load value per hour",
        )
    if not models:
        raise Refused("models", "choose at least one of LR, SVR, RF")
    for i, model in enumerate(models):
        if model not in MODEL_NAMES:
            raise Refused(f"models[{i}]", f"`{model}` is not a model; choose LR, SVR or RF")
        if model in models[:i]:
            raise Refused(f"models[{i}]", f"`{model}` is listed twice")
    stamps = []
    for i, text in enumerate(time):
        stamp = parse_stamp(text)
        if stamp is None:
            raise Refused(f"time[{i}]", f"`{text}` is not a date and time; write for example `2019-01-01T00:00:00Z`")
        stamps.append(stamp)
    # Order first, so swapped rows are called unsorted rather than a gap.
    for i in range(1, len(stamps)):
        if stamps[i].utc <= stamps[i - 1].utc:
            raise Refused(
                f"time[{i}]",
                f"`{time[i]}` is not after the previous timestamp `{time[i - 1]}`; rows must be in time order",
            )
    for i in range(1, len(stamps)):
        step = stamps[i].utc - stamps[i - 1].utc
        if step != HOUR:
            raise Refused(
                f"time[{i}]",
                f"`{time[i]}` is {_describe_step(step)} after the previous timestamp `{time[i - 1]}`; "
                "the series must be hourly without gaps",
            )
    for i, value in enumerate(energy):
        if value is None or not math.isfinite(value):
            raise Refused(
                f"energy[{i}]", f"is missing (null or NaN) at `{time[i]}`; every hour needs a load value in MW"
            )
    return ValidRequest(list(models), stamps, np.asarray(energy, dtype=float))


# ---------------------------------------------------------------------------------------------------------
# Models


def load_models(directory: str, rf_jobs: int = 1) -> dict:
    """The three fitted scikit-learn models of `directory`, by wire name; the forest predicts on `rf_jobs`
    threads (1 in a worker process: the server runs one worker per core)."""
    import joblib  # only where models are loaded: the checks above need numpy alone

    models = {name: joblib.load(os.path.join(directory, file)) for name, file in MODEL_FILES.items()}
    models["RF"].n_jobs = rf_jobs
    return models


def models_present(directory: str) -> bool:
    """Whether `directory` holds a complete set of models: `meta.json` is written after the model files."""
    return os.path.isfile(os.path.join(directory, "meta.json")) and all(
        os.path.isfile(os.path.join(directory, f)) for f in MODEL_FILES.values()
    )


def ensure_models(directory: str) -> None:
    """Trains the models into `directory` if it has none (quick ones for tests when
    `$PYTHON_FORECASTING_TRAIN` is `small`). Several worker processes start at once: the first one takes a
    lock and trains, the others wait for it and then find the models there."""
    if models_present(directory):
        return
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, ".train.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not models_present(directory):
            import train  # beside this file

            small = os.environ.get("PYTHON_FORECASTING_TRAIN") == "small"
            print(f"no models in {directory}: training them (once; {'seconds' if small else 'a minute or two'})",
                  flush=True)
            train.train(DEFAULT_DATA, directory, small=small)


def round_mw(values: np.ndarray) -> np.ndarray:
    """To 0.1 MW, halves away from zero, as the Rust example rounds."""
    scaled = values * 10.0
    return np.sign(scaled) * np.floor(np.abs(scaled) + 0.5) / 10.0


def forecast(models: dict, request: ValidRequest) -> list[dict]:
    """`{"model", "time", "energy"}` for each requested model, in the requested order: one forecast per
    input hour from the 24th on, for the hour 24 h later, stamped in the input's form."""
    features = forecast_features([s.utc for s in request.stamps], request.energy)
    time = [s.shifted_text(HORIZON) for s in request.stamps[WINDOW - 1 :]]
    return [
        {"model": name, "time": time, "energy": round_mw(denormalise(models[name].predict(features))).tolist()}
        for name in request.models
    ]


# ---------------------------------------------------------------------------------------------------------
# Training data


def read_series(path: str) -> tuple[list[datetime], np.ndarray]:
    """The (time, load) rows of a `time,energy` CSV, checked to be hourly without gaps."""
    moments, load = [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            moments.append(parse_utc(row["time"]))
            load.append(float(row["energy"]))
    for before, after in zip(moments, moments[1:]):
        if after - before != HOUR:
            raise ValueError(f"{path}: not hourly between {before} and {after}")
    return moments, np.array(load)
