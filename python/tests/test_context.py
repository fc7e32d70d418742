"""The request context: progress reports, cancellation, the thread's current context."""

from __future__ import annotations

import time
from typing import List, Optional, Tuple

import pytest

import easymlserve
from easymlserve import Context
from easymlserve.context import activated

Reports = List[Tuple[Optional[float], str]]


def recording() -> Tuple[Context, Reports]:
    reports: Reports = []
    ctx = Context("r1", time.monotonic() + 10, lambda fraction, message: reports.append((fraction, message)))
    return ctx, reports


def test_progress_goes_to_the_sink_until_closed() -> None:
    ctx, reports = recording()
    ctx.progress(0.5, "half")
    ctx.progress(None)
    ctx.close()
    ctx.progress(1.0, "after the answer")
    assert reports == [(0.5, "half"), (None, "")]


@pytest.mark.parametrize("fraction", [-0.1, 1.5, float("nan")])
def test_progress_outside_0_to_1_is_refused(fraction: float) -> None:
    ctx, _ = recording()
    with pytest.raises(ValueError, match="between 0 and 1"):
        ctx.progress(fraction)


def test_module_progress_reaches_the_current_context() -> None:
    ctx, reports = recording()
    easymlserve.progress(0.1, "outside: dropped")
    assert easymlserve.current_context() is None
    with activated(ctx):
        assert easymlserve.current_context() is ctx
        easymlserve.progress(0.2, "inside")
    assert easymlserve.current_context() is None
    assert reports == [(0.2, "inside")]


def test_cancel_and_deadline() -> None:
    ctx, _ = recording()
    assert not ctx.cancelled
    ctx.cancel()
    assert ctx.cancelled
    assert ctx.time_left is not None and 0 < ctx.time_left <= 10
    assert Context("no-deadline").time_left is None
