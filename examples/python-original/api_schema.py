"""Request and response models of the histogram service, in a module of their own beside the service,
as the 2022 EasyMLServe examples keep them (`from api_schema import *`)."""

from typing import List

from pydantic import BaseModel


class HistogramRequest(BaseModel):
    """Values to count into equal-width bins."""

    values: List[float]
    bins: int = 10


class HistogramResponse(BaseModel):
    """The bin edges (one more than the counts) and how many values fell into each bin."""

    edges: List[float]
    counts: List[int]
