"""The load-forecasting service of the EasyMLServe paper in Python: scikit-learn's LR, SVR and random
forest behind the easymlserve SDK, with exactly the Rust example's JSON (examples/load-forecasting), so the
same clients and the same GUI description work against either.

    easymlserve serve --python examples/python-forecasting/service.py

`{"models": ["LR", "SVR", "RF"], "time": [...], "energy": [...]}` in (at least 24 consecutive hours, load in
MW), one forecast per input hour from the 24th on, for the hour 24 h later, stamped in the input's own
form, out: `{"forecasts": [{"model": "LR", "time": [...], "energy": [...]}]}`. A request that cannot be
forecast is a 422 naming the field, with the Rust example's messages (forecasting.py has the checks).

The models are loaded from `models/` beside this file (`$PYTHON_FORECASTING_MODELS` for another folder)
and trained there by train.py on the first start. The forest predicts on one thread per worker process
(`$PYTHON_FORECASTING_RF_JOBS` to change it): the server runs one worker per core.
"""

from __future__ import annotations

import csv
import os
from typing import Annotated, List, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from easymlserve import InvalidInput, Service
from forecasting import HERE, MAX_HOURS, WINDOW, Refused, check, ensure_models, forecast, load_models, models_dir

# The JSON Schemas the server validates requests against are written as the Rust example's are (one
# `const` per model, `"type": ["number", "null"]`), so a request that breaks them is refused with the same
# message by both services.
ModelName = Annotated[
    Literal["LR", "SVR", "RF"],
    WithJsonSchema(
        {
            "description": "The models a request can ask for.",
            "oneOf": [
                {"const": "LR", "description": "Linear regression (least squares).", "type": "string"},
                {"const": "SVR", "description": "Support vector regression, RBF kernel.", "type": "string"},
                {"const": "RF", "description": "Random forest of regression trees.", "type": "string"},
            ],
        }
    ),
]
Load = Annotated[Optional[float], WithJsonSchema({"format": "double", "type": ["number", "null"]})]


class ForecastRequest(BaseModel):
    """An hourly load series and the models to forecast it with."""

    model_config = ConfigDict(extra="forbid")

    models: List[ModelName] = Field(
        min_length=1,
        max_length=3,
        description="The models to run: any of `LR` (linear regression), `SVR` (support vector regression) "
        "and `RF` (random forest), each at most once.",
    )
    time: List[str] = Field(
        min_length=WINDOW,
        max_length=MAX_HOURS,
        description="Timestamps of consecutive hours, oldest first, for example `2019-01-01T00:00:00Z` or "
        "`2019-01-01 00:00:00` (read as UTC). At least 24.",
    )
    energy: List[Load] = Field(
        max_length=MAX_HOURS, description="The load of each hour in MW, as many values as timestamps."
    )


class Forecast(BaseModel):
    """One model's forecasts."""

    model: ModelName = Field(description="The model.")
    time: List[str] = Field(description="The hour each forecast is for: an input hour plus 24 hours, in the input's format.")
    energy: List[float] = Field(description="The forecast load in MW.")


class ForecastResponse(BaseModel):
    """Day-ahead forecasts, one entry per requested model, in the requested order."""

    forecasts: List[Forecast] = Field(description="One entry per model.")


def _example_request(hours: int) -> dict:
    """The first `hours` hours of the shipped January 2019 sample, as a request for all three models."""
    sample = os.path.join(HERE, "..", "load-forecasting", "samples", "2019-01.csv")
    with open(sample, newline="") as f:
        rows = [row for _, row in zip(range(hours), csv.DictReader(f))]
    return {"models": ["LR", "SVR", "RF"], "time": [r["time"] for r in rows], "energy": [float(r["energy"]) for r in rows]}


class LoadForecasting(Service):
    """Forecasts the German electrical load one day ahead, hour by hour, from at least 24 hours of
    measured load, with linear regression, support vector regression and a random forest."""

    name = "Load forecasting"
    version = "0.1.0"
    example_request = _example_request(26)

    def load_model(self) -> None:
        directory = models_dir()
        ensure_models(directory)
        self.models = load_models(directory, rf_jobs=int(os.environ.get("PYTHON_FORECASTING_RF_JOBS", "1")))

    def process(self, request: ForecastRequest) -> ForecastResponse:
        try:
            valid = check(request.models, request.time, request.energy)
        except Refused as refused:
            # The SDK sends the message as written; a Rust service's message starts with the field, so
            # this one does too, and the two examples answer with the same bytes.
            raise InvalidInput(f"`{refused.field}`: {refused.message}", field=refused.field) from None
        return ForecastResponse(forecasts=[Forecast(**f) for f in forecast(self.models, valid)])
