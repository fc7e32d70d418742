"""A test service that does whatever the request's `action` says: answer, fail in each way the protocol
knows, hang, crash, exit, report progress, or stop when cancelled. It returns its process id so tests
can tell the worker processes apart."""

import os
import signal
import time
from typing import Literal

from pydantic import BaseModel, Field

from easymlserve import Context, HTTPException, InvalidInput, Service, Cancelled


class Request(BaseModel):
    action: Literal["echo", "invalid", "fail", "refuse", "hang", "kill_self", "exit", "progress", "cancellable"]
    text: str = Field("", max_length=200)
    n: int = Field(0, ge=0, le=100)
    seconds: float = Field(0.0, ge=0.0, le=60.0)


class Response(BaseModel):
    text: str
    n: int
    pid: int


class Toolbox(Service):
    """Does what the request says, so every outcome of a request can be tested."""

    name = "Toolbox"
    version = "2.1.0"
    example_request = {"action": "echo", "text": "hello", "n": 1}

    def load_model(self) -> None:
        print(f"toolbox loaded in pid {os.getpid()}")

    def process(self, request: Request, ctx: Context) -> Response:
        action = request.action
        if action == "invalid":
            raise InvalidInput("`text` must not be 'bad'", field="text")
        if action == "fail":
            raise RuntimeError("secret detail 4711 that must stay in the log")
        if action == "refuse":
            raise HTTPException(404, "no such thing")
        if action in ("hang", "cancellable") and request.text:
            # Tells the test which process holds the request.
            with open(request.text + ".tmp", "w") as f:
                f.write(str(os.getpid()))
            os.rename(request.text + ".tmp", request.text)
        if action == "hang":
            # Ignores cancellation: only killing the worker stops it.
            time.sleep(request.seconds)
        if action == "kill_self":
            os.kill(os.getpid(), signal.SIGKILL)
        if action == "exit":
            os._exit(1)
        if action == "progress":
            for step in range(request.n):
                ctx.progress((step + 1) / request.n, f"step {step + 1} of {request.n}")
                time.sleep(0.01)
        if action == "cancellable":
            until = time.monotonic() + request.seconds
            while time.monotonic() < until:
                if ctx.cancelled:
                    if request.text:
                        # Tells the test the model saw the cancel.
                        with open(request.text + ".cancelled", "w") as f:
                            f.write("cancelled")
                    raise Cancelled()
                time.sleep(0.01)
        return Response(text=request.text, n=request.n, pid=os.getpid())
