"""Why this exists: the Python forecasting example (examples/python-forecasting) on the original EasyMLServe
stack, FastAPI + Uvicorn in one process, the Python side of bench/compare.sh. It serves the example's own
code and model files (forecasting.py: checks, features, prediction), so against `easymlserve serve --python
examples/python-forecasting/service.py` only the serving differs. Same wire format as the Rust example:
{"models": ["LR", "SVR", "RF"], "time": [...], "energy": [...]} in, one forecast per input hour from the
24th on, for the hour 24 h later, stamped in the input's format:
{"forecasts": [{"model": "LR", "time": [...], "energy": [...]}]}.

The models come from the example's train.py (folder $PYTHON_FORECASTING_MODELS, default
examples/python-forecasting/models) and are loaded at import, so Uvicorn answers GET /health only once they
are in memory. The forest predicts on both cores (FORECAST_RF_JOBS, default -1), as the original did.
Run: `uvicorn forecast_app:app --port 18085 --log-level warning` (from bench/python, in bench/.venv).
"""

import os
import sys
from typing import Literal, Optional

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "python-forecasting")
sys.path.insert(0, os.path.abspath(EXAMPLE))
from forecasting import Refused, check, ensure_models, forecast, load_models, models_dir  # noqa: E402

ensure_models(models_dir())
MODELS = load_models(models_dir(), rf_jobs=int(os.environ.get("FORECAST_RF_JOBS", "-1")))
app = FastAPI(title="Load forecasting")

ModelName = Literal["LR", "SVR", "RF"]


class ForecastRequest(BaseModel):
    """An hourly load series and the models to forecast it with."""

    model_config = ConfigDict(extra="forbid")
    models: list[ModelName]
    time: list[str]
    energy: list[Optional[float]]


class Forecast(BaseModel):
    """One model's forecasts."""

    model: ModelName
    time: list[str]
    energy: list[float]


class ForecastResponse(BaseModel):
    """One entry per requested model, in the requested order."""

    forecasts: list[Forecast]


@app.exception_handler(Refused)
async def refused(_request, error: Refused) -> JSONResponse:
    body = {"error": f"`{error.field}`: {error.message}", "error_type": "invalid_input", "field": error.field}
    return JSONResponse(status_code=422, content=body)


# A plain `def`: FastAPI runs it in its thread pool, so the CPU-bound prediction does not block the event
# loop (FastAPI's advice for blocking work). The models run one after the other.
@app.post("/process", response_model=ForecastResponse)
def process(request: ForecastRequest) -> ForecastResponse:
    valid = check(request.models, request.time, request.energy)
    return ForecastResponse(forecasts=[Forecast(**f) for f in forecast(MODELS, valid)])


@app.get("/health")
async def health() -> dict:
    # The models loaded at import, before Uvicorn accepted connections: answering means ready.
    return {"status": "ready"}
