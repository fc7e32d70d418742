"""The messages the worker builds and the checks on what the server sends (docs/worker-protocol.md)."""

from __future__ import annotations

import os
import platform
from typing import Any, Dict

import pytest

from easymlserve import protocol
from easymlserve.framing import FrameError


def test_hello() -> None:
    assert protocol.hello() == {
        "type": "hello", "proto": 1, "pid": os.getpid(), "python": platform.python_version(), "sdk_version": "0.1.0",
    }


@pytest.mark.parametrize(
    "message",
    [
        {"type": "init", "worker_id": 0},
        {"type": "predict", "id": "req-1a", "input": {}, "deadline_ms": 59000},
        {"type": "predict", "id": "req-1a", "input": {}, "deadline_ms": None, "extra": "ignored"},
        {"type": "predict", "id": 7, "input": {}},
        {"type": "predict_batch", "id": "b", "inputs": [{}, {}]},
        {"type": "cancel", "id": "req-1a"},
        {"type": "ping"},
        {"type": "shutdown", "grace_ms": 5000},
    ],
)
def test_server_messages_that_pass(message: Dict[str, Any]) -> None:
    assert protocol.checked(message) is message


@pytest.mark.parametrize(
    "message, match",
    [
        ({"type": "reboot"}, "unknown message type 'reboot'"),
        ({"type": "predict", "input": {}}, "without a string \"id\""),
        ({"type": "cancel", "id": ["a"]}, "without a string \"id\""),
        ({"type": "predict", "id": "r"}, "without an \"input\""),
        ({"type": "predict_batch", "id": "b", "inputs": {}}, "list of \"inputs\""),
        ({"type": "predict", "id": "r", "input": {}, "deadline_ms": "soon"}, "deadline_ms"),
    ],
)
def test_server_messages_that_break_the_protocol(message: Dict[str, Any], match: str) -> None:
    with pytest.raises(FrameError, match=match):
        protocol.checked(message)
