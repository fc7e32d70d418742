"""Fixtures shared by the tests: workers that are always gone when a test ends."""

from __future__ import annotations

from typing import Callable, Dict, Iterator, List, Optional

import pytest

from harness import WorkerHarness, service

StartWorker = Callable[..., WorkerHarness]


@pytest.fixture
def start_worker() -> Iterator[StartWorker]:
    """Starts `python -m easymlserve.worker` on a file of tests/services; at the end of the test every
    worker started is killed (if still running) and its process group is checked to be gone."""
    started: List[WorkerHarness] = []

    def start(name: str, env: Optional[Dict[str, str]] = None) -> WorkerHarness:
        worker = WorkerHarness(service(name), env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.close()
    leftovers = [w.process.pid for w in started if w.process.poll() is None or w.group_alive()]
    assert not leftovers, f"worker processes still running: {leftovers}"
