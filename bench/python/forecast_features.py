"""Why this exists: the load-forecasting features in numpy, shared by train_models.py and forecast_app.py.

The same inputs as examples/load-forecasting/src/features.rs (the original example's): for hour k of an
hourly UTC series, with n(x) = (x - 55,492) / 10,015, the lags n(load[k - i]) for i = 0..23, a weekend
flag for the hour k + 24 h, and sin/cos of the hour of day over 24 and of the day of year over 366.
The target of a training row is n(load[k + 24]).
"""

import math
from datetime import datetime, timedelta, timezone

import numpy as np

LOAD_MEAN = 55_492.0
LOAD_STD = 10_015.0
WINDOW = 24  # hours of history per forecast
HORIZON = 24  # hours between the last input hour and the forecast hour


def normalise(load_mw: np.ndarray) -> np.ndarray:
    return (load_mw - LOAD_MEAN) / LOAD_STD


def denormalise(values: np.ndarray) -> np.ndarray:
    return values * LOAD_STD + LOAD_MEAN


def parse_utc(text: str) -> datetime:
    """An ISO 8601 timestamp (`2019-01-01T00:00:00Z`, `2019-01-01 00:00:00`, ...) as an aware UTC time;
    a timestamp without offset is read as UTC, as the Rust service does."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def calendar_features(moment: datetime) -> list[float]:
    """Weekend flag of the hour a day later, and the hour-of-day and day-of-year terms of this hour."""
    later = moment + timedelta(hours=HORIZON)
    hour = 2 * math.pi * moment.hour / 24
    day = 2 * math.pi * moment.timetuple().tm_yday / 366
    return [1.0 if later.weekday() >= 5 else 0.0, math.sin(hour), math.cos(hour), math.sin(day), math.cos(day)]


def feature_rows(moments: list[datetime], load_mw: np.ndarray, last: int) -> np.ndarray:
    """Feature rows for the hours k = 23 .. last - 1 (row j is hour k = 23 + j), 29 columns each."""
    norm = normalise(np.asarray(load_mw, dtype=float))
    # Window j holds norm[j .. j + 23]; reversed, its column i is norm[k - i] with k = j + 23.
    lags = np.lib.stride_tricks.sliding_window_view(norm[:last], WINDOW)[:, ::-1]
    calendar = np.array([calendar_features(m) for m in moments[WINDOW - 1 : last]])
    return np.hstack([lags, calendar])


def forecast_features(moments: list[datetime], load_mw: np.ndarray) -> np.ndarray:
    """One row per hour from the 24th on: what a forecast request needs."""
    return feature_rows(moments, load_mw, len(load_mw))


def training_set(moments: list[datetime], load_mw: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[datetime]]:
    """Rows for hours k = 23 .. n - 25 with their targets n(load[k + 24]) and the time of each hour k."""
    last = len(load_mw) - HORIZON
    x = feature_rows(moments, load_mw, last)
    y = normalise(np.asarray(load_mw[WINDOW - 1 + HORIZON :], dtype=float))
    return x, y, moments[WINDOW - 1 : last]
