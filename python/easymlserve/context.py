"""The request context a model sees: which request it is answering, how long it has, whether the caller
gave up, and a way to report progress.

A service asks for it with a second parameter, `process(self, request, ctx)`; code that cannot take the
parameter (a helper deep in the model) reaches the same context through `easymlserve.progress()` and
`easymlserve.current_context()`, which read the context of the request the calling thread is running.
"""

from __future__ import annotations

import math
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

ProgressSink = Callable[[Optional[float], str], None]
"""Where a context's progress reports go: the worker sends them to the server as `progress` frames."""


class Context:
    """The context of one request (or one batch): id, deadline, cancellation and progress."""

    def __init__(
        self,
        request_id: str,
        deadline: Optional[float] = None,
        progress_sink: Optional[ProgressSink] = None,
    ) -> None:
        """`deadline` is a `time.monotonic()` instant, or None for no limit; `progress_sink` receives the
        progress reports (none: they are dropped, as when a service is called outside the server)."""
        self.request_id = request_id
        self.deadline = deadline
        self._sink = progress_sink
        self._cancelled = threading.Event()
        self._lock = threading.Lock()
        self._open = True

    @property
    def cancelled(self) -> bool:
        """True once the server has cancelled the request (the caller left, or the timeout passed): a
        long-running model should check it now and then, stop, and `raise easymlserve.Cancelled()`."""
        return self._cancelled.is_set()

    @property
    def time_left(self) -> Optional[float]:
        """Seconds until the deadline (negative once it has passed), or None if there is none."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def progress(self, fraction: Optional[float], message: str = "") -> None:
        """Reports how far the request has come: `fraction` from 0 to 1, or None if unknown, and a short
        message for the user. Reports after the request has been answered are dropped."""
        if fraction is not None:
            fraction = float(fraction)
            if not (0.0 <= fraction <= 1.0) or math.isnan(fraction):
                raise ValueError(f"progress fraction must be between 0 and 1, got {fraction}")
        with self._lock:
            if self._open and self._sink is not None:
                self._sink(fraction, str(message))

    def cancel(self) -> None:
        """Sets the cancellation flag (the worker does this when the server sends `cancel`)."""
        self._cancelled.set()

    def close(self) -> None:
        """Stops progress reports: called before the answer is sent, so that none can follow it."""
        with self._lock:
            self._open = False


_local = threading.local()


def current_context() -> Optional[Context]:
    """The context of the request this thread is running, or None outside a request."""
    ctx: Optional[Context] = getattr(_local, "context", None)
    return ctx


def progress(fraction: Optional[float], message: str = "") -> None:
    """Reports progress of the request this thread is running (see `Context.progress`); does nothing
    outside a request, so model code calling it also runs in a plain script or a test."""
    ctx = current_context()
    if ctx is not None:
        ctx.progress(fraction, message)


@contextmanager
def activated(ctx: Context) -> Iterator[Context]:
    """Makes `ctx` the current context of this thread for the duration of the block."""
    previous = current_context()
    _local.context = ctx
    try:
        yield ctx
    finally:
        _local.context = previous
