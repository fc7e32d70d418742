"""Where `EasyMLServer(...).deploy()` leaves its service when the file runs inside a worker.

The worker switches worker mode on before it runs the service file; `deploy()` then registers the
service here and returns, and the worker serves that instance instead of starting a server of its own.
"""

from __future__ import annotations

from typing import Any, Optional

_worker_mode = False
_registered: Optional[Any] = None


def enter_worker_mode() -> None:
    """Called by the worker before it runs the service file."""
    global _worker_mode
    _worker_mode = True


def in_worker_mode() -> bool:
    """Whether this process is an easymlserve worker."""
    return _worker_mode


def register(service: Any) -> None:
    """Makes `service` the one the worker serves (the last one registered wins)."""
    global _registered
    _registered = service


def registered() -> Optional[Any]:
    """The service registered by `deploy()`, if any."""
    return _registered
