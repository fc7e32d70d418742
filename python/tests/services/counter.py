"""A new-style service for the end-to-end tests: progress, cancellation, every kind of failure, batching."""

from __future__ import annotations

import math
import time
from typing import Any, List, Literal, Optional

from pydantic import BaseModel, Field

import easymlserve
from easymlserve import Context, InvalidInput, Service


class Point(BaseModel):
    lat: float = Field(..., ge=-90, le=90)
    label: Optional[str] = None


class Request(BaseModel):
    steps: int = Field(3, ge=0, le=100)
    points: List[Point] = []
    mode: Literal["count", "invalid", "http", "crash", "nan", "huge", "wait_for_cancel", "sleep"] = "count"


class Response(BaseModel):
    steps_done: int
    request_id: str
    loaded: bool


class NotFound(Exception):
    """Shaped like Starlette's HTTPException: an integer status_code and a detail."""

    def __init__(self, status_code: int, detail: Any) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail


class Counter(Service):
    """Counts to `steps`, reporting progress at each step.

    This second paragraph is not part of the description.
    """

    version = "1.2.3"
    example_request = Request(steps=2)

    def __init__(self) -> None:
        self.loaded = False

    def load_model(self) -> None:
        self.loaded = True

    def process(self, request: Request, ctx: Context) -> Response:
        for step in range(request.steps):
            if step % 2 == 0:
                ctx.progress((step + 1) / request.steps, f"step {step + 1}")
            else:
                easymlserve.progress((step + 1) / request.steps, f"step {step + 1}")
        if request.mode == "invalid":
            raise InvalidInput("steps must be even here", field="steps")
        if request.mode == "http":
            raise NotFound(404, {"reason": "no such thing"})
        if request.mode == "crash":
            print(1 / 0)
        if request.mode == "nan":
            return {"value": math.nan}  # type: ignore[return-value]
        if request.mode == "huge":
            return {"blob": "x" * (64 * 1024 * 1024)}  # type: ignore[return-value]
        if request.mode == "wait_for_cancel":
            ctx.progress(None, "waiting for cancel")
            give_up = time.monotonic() + 20
            while not ctx.cancelled and time.monotonic() < give_up:
                time.sleep(0.005)
            raise easymlserve.Cancelled()
        if request.mode == "sleep":
            time.sleep(0.5)
        return Response(steps_done=request.steps, request_id=ctx.request_id, loaded=self.loaded)

    def process_batch(self, requests: List[Request]) -> List[Any]:
        return [
            InvalidInput("13 is unlucky", field="steps") if r.steps == 13 else {"steps_done": r.steps}
            for r in requests
        ]
