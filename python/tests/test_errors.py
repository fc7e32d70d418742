"""How what a model raises or returns becomes `done`, `failed` or `cancelled` (the runner, no socket)."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import pytest
from pydantic import BaseModel, Field

import easymlserve
from easymlserve import Cancelled, Context, HTTPException, InvalidInput, Service
from easymlserve.errors import GENERIC_FAILURE, Failure, failure_from_exception, field_path
from easymlserve.runner import Done, Runner, WasCancelled, batch_message, outcome_message


class Point(BaseModel):
    lat: float = Field(..., ge=-90, le=90)


class Request(BaseModel):
    points: List[Point]


class StarletteLikeHTTPException(Exception):
    def __init__(self, status_code: int, detail: Any = None) -> None:
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail


class Raising(Service):
    def __init__(self, error: Optional[BaseException]) -> None:
        self.error = error

    def process(self, request: Request) -> Dict[str, Any]:
        if self.error is not None:
            raise self.error
        return {"n": len(request.points)}


def run(error: Optional[BaseException], data: Any = None) -> Any:
    data = {"points": [{"lat": 1}]} if data is None else data
    return Runner(Raising(error)).run(data, Context("r"))


def test_done() -> None:
    outcome = run(None)
    assert isinstance(outcome, Done)
    assert outcome_message("r", outcome) == {"type": "done", "id": "r", "output": {"n": 1}}


def test_invalid_input_is_422_with_the_field() -> None:
    outcome = run(InvalidInput("time must be hourly", field="time[3]"))
    assert outcome_message("r", outcome) == {
        "type": "failed", "id": "r", "status": 422, "error_type": "invalid_input",
        "message": "time must be hourly", "field": "time[3]", "traceback": None,
    }


@pytest.mark.parametrize("cls", [StarletteLikeHTTPException, HTTPException])
def test_http_exceptions_keep_their_status(cls: Any) -> None:
    failure = run(cls(404, "Unknown model"))
    assert isinstance(failure, Failure)
    assert (failure.status, failure.error_type, failure.message, failure.traceback) == (404, "http_404", "Unknown model", None)


def test_http_exception_details_are_stringified() -> None:
    failure = run(StarletteLikeHTTPException(409, {"conflict": ["a", 1]}))
    assert failure.message == '{"conflict": ["a", 1]}'
    assert run(StarletteLikeHTTPException(400, 17)).message == "17"
    assert run(HTTPException(403)).message == "Forbidden"


def test_http_exception_5xx_is_a_model_error_with_its_status() -> None:
    failure = run(StarletteLikeHTTPException(503, "GPU busy"))
    assert (failure.status, failure.error_type, failure.message) == (503, "model_error", "GPU busy")
    assert failure.traceback is not None and "StarletteLikeHTTPException" in failure.traceback


def test_a_plain_exception_keeps_its_traceback_out_of_the_message() -> None:
    failure = run(KeyError("secret internal key"))
    assert (failure.status, failure.error_type, failure.message, failure.field) == (500, "model_error", GENERIC_FAILURE, None)
    assert "secret" not in failure.message
    assert failure.traceback is not None
    assert "KeyError: 'secret internal key'" in failure.traceback
    assert "in process" in failure.traceback


def test_validation_error_names_the_field_path() -> None:
    failure = run(None, {"points": [{"lat": 1}, {"lat": 91}]})
    assert (failure.status, failure.error_type, failure.field) == (422, "validation_error", "points[1].lat")
    assert failure.message.startswith("`points[1].lat`: ")
    assert "90" in failure.message
    missing = run(None, {})
    assert (missing.status, missing.field) == (422, "points")
    two = run(None, {"points": [{"lat": 100}, {"lat": "x"}]})
    assert two.message.endswith("(and 1 more error)")


def test_an_untyped_request_must_be_an_object() -> None:
    class Untyped(Service):
        def process(self, request: Dict[str, Any]) -> Dict[str, Any]:
            return request

    failure = Runner(Untyped()).run([1, 2], Context("r"))
    assert isinstance(failure, Failure) and failure.status == 422


def test_field_path() -> None:
    assert field_path(("points", 1, "lat")) == "points[1].lat"
    assert field_path((0, "x")) == "[0].x"
    assert field_path(()) == ""


def test_system_exit_in_process_fails_only_the_request() -> None:
    failure = run(SystemExit(3))
    assert (failure.status, failure.error_type) == (500, "model_error")


def test_failure_from_exception_passes_failures_through() -> None:
    failure = Failure(429, "too_many", "slow down")
    assert failure_from_exception(failure) is failure


class Cancellable(Service):
    def process(self, request: Dict[str, Any], ctx: Context) -> Dict[str, Any]:
        if request.get("raise"):
            raise Cancelled()
        ctx.cancel()  # as if the server's cancel arrived while the model ran
        return {"partial": True}


def test_cancellation() -> None:
    runner = Runner(Cancellable())
    assert isinstance(runner.run({"raise": True}, Context("a")), WasCancelled)
    assert isinstance(runner.run({}, Context("b")), WasCancelled)
    assert outcome_message("b", WasCancelled()) == {"type": "cancelled", "id": "b"}


class Batched(Service):
    def process(self, request: Request) -> Dict[str, Any]:
        raise AssertionError("process_batch is used")

    def process_batch(self, requests: List[Request], ctx: Context) -> List[Any]:
        easymlserve.progress(0.5, f"{len(requests)} requests")
        if len(requests) == 3:
            return [{}]
        return [InvalidInput("no points") if not r.points else {"n": len(r.points)} for r in requests]


def test_batches() -> None:
    reports: List[Any] = []
    ctx = Context("b", None, lambda fraction, message: reports.append((fraction, message)))
    runner = Runner(Batched())
    assert runner.spec.batch_takes_context
    outcome = runner.run_batch([{"points": [{"lat": 0}]}, {"points": []}, {"points": [{"lat": 99}]}], ctx)
    message = batch_message("b", outcome)
    assert message["type"] == "done_batch"
    first, second, third = message["outputs"]
    assert first == {"output": {"n": 1}}
    assert second["error"]["error_type"] == "invalid_input"
    assert (third["error"]["error_type"], third["error"]["field"]) == ("validation_error", "points[0].lat")
    assert reports == [(0.5, "2 requests")]


def test_a_batch_answer_of_the_wrong_length_fails_the_batch() -> None:
    outcome = Runner(Batched()).run_batch([{"points": []}] * 3, Context("b"))
    assert isinstance(outcome, Failure)
    assert outcome.message == "process_batch returned 1 results for 3 requests: it must return one per request"
    assert batch_message("b", outcome)["type"] == "failed"


def test_a_batch_without_process_batch_runs_process_for_each() -> None:
    outcome = Runner(Raising(None)).run_batch([{"points": []}, {"points": "x"}], Context("b"))
    assert isinstance(outcome, list)
    assert isinstance(outcome[0], Done) and outcome[0].output == {"n": 0}
    assert isinstance(outcome[1], Failure) and outcome[1].field == "points"


class Async(Service):
    async def process(self, request: Dict[str, Any]) -> Dict[str, Any]:
        await asyncio.sleep(0)
        return {"async": True}


def test_async_process() -> None:
    runner = Runner(Async())
    for _ in range(2):
        outcome = runner.run({}, Context("a"))
        assert isinstance(outcome, Done) and outcome.output == {"async": True}
