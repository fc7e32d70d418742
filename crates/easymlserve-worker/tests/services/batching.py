"""A test service with `process_batch`: each answer names the size of the batch it was computed in."""

import os
from typing import List

from pydantic import BaseModel, Field

from easymlserve import InvalidInput, Service


class Request(BaseModel):
    x: int = Field(..., ge=0, le=1000)


class Response(BaseModel):
    y: int
    batch: int
    pid: int


class Doubler(Service):
    def process(self, request: Request) -> Response:
        return Response(y=2 * request.x, batch=1, pid=os.getpid())

    def process_batch(self, requests: List[Request]) -> list:
        return [
            InvalidInput("x must not be 13", field="x")
            if r.x == 13
            else Response(y=2 * r.x, batch=len(requests), pid=os.getpid())
            for r in requests
        ]
