"""Why this exists: the echo service on the easymlserve Python SDK, for bench/compare.py's measure of the
worker protocol's own cost: served by `easymlserve serve --python bench/python/echo_service.py` at
concurrency 1, against the same `process` called in-process (bench/python/echo_inprocess.py). Same JSON as
examples/echo and echo_app.py: {"text": "...", "repeat": n} -> {"text": repeated}.
"""

from pydantic import BaseModel, ConfigDict, Field

from easymlserve import Service


class EchoRequest(BaseModel):
    """What to echo; unknown fields are refused, as the Rust service does."""

    model_config = ConfigDict(extra="forbid")
    text: str
    repeat: int = Field(default=1, ge=1, le=10)


class EchoResponse(BaseModel):
    """The echoed text."""

    text: str


class Echo(Service):
    """Repeats a text."""

    def process(self, request: EchoRequest) -> EchoResponse:
        return EchoResponse(text=request.text * request.repeat)
