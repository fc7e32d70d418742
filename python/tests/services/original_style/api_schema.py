"""The request and response models of the original-style test service, imported with `*` beside it as
the original EasyMLServe examples do."""

from typing import List

from pydantic import BaseModel


class APIRequest(BaseModel):
    models: List[str]
    energy: List[float]


class Forecast(BaseModel):
    model: str
    energy: List[float]


class APIResponse(BaseModel):
    forecasts: List[Forecast]
    shape: List[int]
    loads: int
