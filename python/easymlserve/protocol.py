"""The messages of the worker protocol (docs/worker-protocol.md), version 1, as the Python side builds
and checks them. The Rust side is the other half; the document is the contract between them.
"""

from __future__ import annotations

import os
import platform
from typing import Any, Dict, Optional

from ._version import __version__
from .framing import FrameError
from .spec import ServiceSpec

PROTO = 1
"""The protocol version this worker speaks, sent in `hello`."""

SERVER_MESSAGES = frozenset({"init", "predict", "predict_batch", "cancel", "ping", "shutdown"})
"""The message types a server may send; any other is a protocol error."""

Message = Dict[str, Any]


def hello() -> Message:
    """The first message, sent as soon as the socket is connected."""
    return {
        "type": "hello",
        "proto": PROTO,
        "pid": os.getpid(),
        "python": platform.python_version(),
        "sdk_version": __version__,
    }


def ready(spec: ServiceSpec) -> Message:
    """The service is loaded and takes requests."""
    return {
        "type": "ready",
        "info": spec.info(),
        "request_schema": spec.request_schema,
        "response_schema": spec.response_schema,
        "example_request": spec.example_request,
        "capabilities": spec.capabilities(),
    }


def setup_failed(error: str, traceback: str) -> Message:
    """Loading the service failed; the worker exits after sending it."""
    return {"type": "setup_failed", "error": error, "traceback": traceback}


def progress(request_id: Any, fraction: Optional[float], message: str) -> Message:
    """How far the request `request_id` has come."""
    return {"type": "progress", "id": request_id, "fraction": fraction, "message": message}


def pong() -> Message:
    """The answer to `ping`."""
    return {"type": "pong"}


def bye() -> Message:
    """The answer to `shutdown`, the last message before the worker exits 0."""
    return {"type": "bye"}


def _is_id(value: Any) -> bool:
    # The document's ids are strings; integers are taken too and echoed back as they came.
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def checked(message: Message) -> Message:
    """A message from the server, checked for a known type and the fields the worker needs; raises
    FrameError (a protocol error) otherwise. Unknown fields are ignored."""
    kind = message["type"]
    if kind not in SERVER_MESSAGES:
        raise FrameError(f"unknown message type {kind!r}")
    if kind in ("predict", "predict_batch", "cancel") and not _is_id(message.get("id")):
        raise FrameError(f"a {kind!r} message without a string \"id\"")
    if kind == "predict" and "input" not in message:
        raise FrameError("a 'predict' message without an \"input\"")
    if kind == "predict_batch" and not isinstance(message.get("inputs"), list):
        raise FrameError("a 'predict_batch' message without a list of \"inputs\"")
    deadline = message.get("deadline_ms")
    if deadline is not None and (isinstance(deadline, bool) or not isinstance(deadline, (int, float))):
        raise FrameError(f"a {kind!r} message whose \"deadline_ms\" is not a number: {deadline!r}")
    return message
