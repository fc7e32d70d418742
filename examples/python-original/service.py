"""A service written for the original EasyMLServe (Neumann et al., 2022), exactly as one would have been
then: it subclasses `EasyMLService`, loads its "model" in `load_model`, takes a pydantic request, refuses
bad input with an exception carrying `status_code` and `detail` (FastAPI's `HTTPException` in the
original), and deploys with `EasyMLServer(...).deploy()`.

Run it with easymlserve's Rust server, no change to the file:

    easymlserve serve --python examples/python-original/service.py

or, with the SDK installed (`pip install ./python`), `python examples/python-original/service.py`, which
starts the same server on the port and with the API keys given below.
"""

from typing import List

from easymlserve import EasyMLServer, EasyMLService

from api_schema import *  # noqa: F401,F403  (the original examples import their schema like this)


class HTTPException(Exception):
    """What FastAPI's HTTPException carries; services of the original raised FastAPI's own."""

    def __init__(self, status_code: int, detail: str) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


class HistogramService(EasyMLService):
    """Counts values into equal-width bins."""

    def __init__(self, max_bins: int = 100) -> None:
        self.max_bins = max_bins  # set before the base class loads the model
        super().__init__()

    def load_model(self) -> None:
        self.loaded = True

    def process(self, request: HistogramRequest) -> HistogramResponse:
        if not request.values:
            raise HTTPException(status_code=400, detail="values must not be empty")
        if not 1 <= request.bins <= self.max_bins:
            raise HTTPException(status_code=422, detail=f"bins must be between 1 and {self.max_bins}")
        low, high = min(request.values), max(request.values)
        width = (high - low) / request.bins or 1.0
        counts: List[int] = [0] * request.bins
        for value in request.values:
            counts[min(int((value - low) / width), request.bins - 1)] += 1
        edges = [low + i * width for i in range(request.bins + 1)]
        return HistogramResponse(edges=edges, counts=counts)


if __name__ == "__main__":
    service = HistogramService(max_bins=50)
    server = EasyMLServer(service, api_keys=["histogram-key"], uvicorn_args={"host": "127.0.0.1", "port": 8100})
    server.deploy()
