"""Why this exists: the load-forecasting service on the original EasyMLServe stack (FastAPI + Uvicorn +
scikit-learn), the Python side of bench/compare.sh. Same wire format as examples/load-forecasting:
{"models": ["LR", "SVR", "RF"], "time": [...], "energy": [...]} in, one forecast per input hour from the
24th on, for the hour 24 h later, stamped in the input's format:
{"forecasts": [{"model": "LR", "time": [...], "energy": [...]}]}.

The models come from train_models.py (folder FORECAST_MODELS, default bench/python/models) and are loaded
at import, so Uvicorn answers GET /health only once they are in memory.
Run: `uvicorn forecast_app:app --port 18085 --log-level warning` (from bench/python, in bench/.venv).
"""

import os
import pickle
import re
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from forecast_features import HORIZON, WINDOW, denormalise, forecast_features, parse_utc

MODELS_DIR = os.environ.get("FORECAST_MODELS", os.path.join(os.path.dirname(os.path.abspath(__file__)), "models"))
# Threads of the random forest's prediction; both cores by default, as the Rust service's forest uses.
RF_JOBS = int(os.environ.get("FORECAST_RF_JOBS", "-1"))

ModelName = Literal["LR", "SVR", "RF"]


def load_models() -> dict:
    """The three fitted scikit-learn models, by wire name."""
    models = {}
    for name, file in (("LR", "lr.pkl"), ("SVR", "svr.pkl"), ("RF", "rf.pkl")):
        with open(os.path.join(MODELS_DIR, file), "rb") as f:
            models[name] = pickle.load(f)
    models["RF"].n_jobs = RF_JOBS
    return models


MODELS = load_models()
app = FastAPI(title="Load forecasting")


class ForecastRequest(BaseModel):
    """An hourly load series and the models to forecast it with."""

    model_config = ConfigDict(extra="forbid")
    models: list[ModelName]
    time: list[str]
    energy: list[float | None]


class Forecast(BaseModel):
    """One model's forecasts."""

    model: ModelName
    time: list[str]
    energy: list[float]


class ForecastResponse(BaseModel):
    """One entry per requested model, in the requested order."""

    forecasts: list[Forecast]


class InvalidInput(Exception):
    """A request that parsed as JSON but cannot be forecast; answered with 422 naming the field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@app.exception_handler(InvalidInput)
async def invalid_input(_request, error: InvalidInput) -> JSONResponse:
    body = {"error": str(error), "error_type": "invalid_input", "field": error.field}
    return JSONResponse(status_code=422, content=body)


_OFFSET = re.compile(r"(Z|z|[+-]\d\d:\d\d)$")
# Length of the naive part of a timestamp -> how finely isoformat() must write it back.
_TIMESPEC = {16: "minutes", 19: "seconds", 23: "milliseconds", 26: "microseconds"}


def shifted(text: str, hours: int) -> str:
    """`text` plus `hours`, written in the same form: `2019-01-01T23:00:00Z` -> `2019-01-02T23:00:00Z`,
    `2019-01-01 23:00:00` -> `2019-01-02 23:00:00`."""
    match = _OFFSET.search(text)
    suffix = match.group(0) if match else ""
    body = text[: len(text) - len(suffix)]
    later = datetime.fromisoformat(body) + timedelta(hours=hours)
    return later.isoformat(sep=body[10], timespec=_TIMESPEC.get(len(body), "seconds")) + suffix


def check(request: ForecastRequest) -> tuple[list[datetime], np.ndarray]:
    """The parsed timestamps and loads of a request, or InvalidInput for the first field that is wrong."""
    if len(request.time) < WINDOW:
        raise InvalidInput("time", f"needs at least {WINDOW} hours to forecast from, got {len(request.time)}")
    if len(request.energy) != len(request.time):
        raise InvalidInput("energy", f"has {len(request.energy)} values but `time` has {len(request.time)} timestamps")
    if not request.models:
        raise InvalidInput("models", "choose at least one of LR, SVR, RF")
    if len(set(request.models)) != len(request.models):
        raise InvalidInput("models", "a model is listed twice")
    moments = []
    for i, text in enumerate(request.time):
        try:
            moments.append(parse_utc(text))
        except ValueError:
            raise InvalidInput(f"time[{i}]", f"`{text}` is not a date and time") from None
    for i in range(1, len(moments)):
        if (moments[i] - moments[i - 1]).total_seconds() != 3600:
            raise InvalidInput(f"time[{i}]", "the series must be hourly, in order, without gaps")
    for i, value in enumerate(request.energy):
        if value is None:
            raise InvalidInput(f"energy[{i}]", "is missing; every hour needs a load value in MW")
    return moments, np.array(request.energy, dtype=float)


# A plain `def`: FastAPI runs it in its thread pool, so the CPU-bound prediction does not block the event
# loop (FastAPI's advice for blocking work). The models run one after the other.
@app.post("/process", response_model=ForecastResponse)
def process(request: ForecastRequest) -> ForecastResponse:
    moments, load = check(request)
    features = forecast_features(moments, load)
    time = [shifted(text, HORIZON) for text in request.time[WINDOW - 1 :]]
    forecasts = []
    for name in request.models:
        energy = np.round(denormalise(MODELS[name].predict(features)) * 10.0) / 10.0
        forecasts.append(Forecast(model=name, time=time, energy=energy.tolist()))
    return ForecastResponse(forecasts=forecasts)


@app.get("/health")
async def health() -> dict:
    # The models loaded at import, before Uvicorn accepted connections: answering means ready.
    return {"status": "ready"}
