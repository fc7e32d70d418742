"""Running one request (or one batch) through a service and turning the outcome into the protocol's
terms: validate the input against the request model, call `process` with or without the context, encode
the result as JSON, and map every exception to a failure.

It knows nothing of sockets, so the error mapping and the encoding are tested by calling it directly.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Dict, List, Optional, Union

from . import compat
from .context import Context, activated
from .encoding import EncodingError, to_jsonable
from .errors import Cancelled, Failure, failure_from_exception, failure_from_validation_error
from .spec import ServiceSpec, describe


class Done:
    """A successful answer: JSON data, ready to send."""

    def __init__(self, output: Any) -> None:
        self.output = output


class WasCancelled:
    """The request was cancelled and the model stopped."""


Outcome = Union[Done, Failure, WasCancelled]
"""What became of one request."""

BatchOutcome = Union[List[Union[Done, Failure]], Failure, WasCancelled]
"""What became of a batch: one entry per input, or one failure or cancellation for all of them."""


class Runner:
    """Calls a service's `process` and `process_batch` for one worker (from one thread at a time)."""

    def __init__(self, service: Any, spec: Optional[ServiceSpec] = None) -> None:
        self.service = service
        self.spec = spec if spec is not None else describe(service)
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def run(self, data: Any, ctx: Context) -> Outcome:
        """Answers one request whose input is the JSON data `data`."""
        try:
            request = self._parse(data)
        except Failure as failure:
            return failure
        try:
            with activated(ctx):
                if self.spec.process_takes_context:
                    result = self._call(self.service.process, request, ctx)
                else:
                    result = self._call(self.service.process, request)
        except BaseException as err:
            return self._after_exception(err, ctx)
        if ctx.cancelled:
            return WasCancelled()
        return _encoded(result)

    def run_batch(self, inputs: List[Any], ctx: Context) -> BatchOutcome:
        """Answers a batch: `process_batch` on the inputs that pass the request model (each refused input
        fails alone), or `process` for each input when the service has no `process_batch`. Field paths
        in the failures are relative to each input, as each input is a request of its own."""
        if not self.spec.batching:
            outcomes: List[Union[Done, Failure]] = []
            for data in inputs:
                outcome = self.run(data, ctx)
                if isinstance(outcome, WasCancelled):
                    return outcome
                outcomes.append(outcome)
            return outcomes
        entries: List[Union[Done, Failure, None]] = [None] * len(inputs)
        valid: List[int] = []
        requests: List[Any] = []
        for i, data in enumerate(inputs):
            try:
                requests.append(self._parse(data))
                valid.append(i)
            except Failure as failure:
                entries[i] = failure
        if requests:
            try:
                with activated(ctx):
                    if self.spec.batch_takes_context:
                        results = self._call(self.service.process_batch, requests, ctx)
                    else:
                        results = self._call(self.service.process_batch, requests)
            except BaseException as err:
                return self._after_exception(err, ctx)
            if ctx.cancelled:
                return WasCancelled()
            if not isinstance(results, (list, tuple)) or len(results) != len(requests):
                got = f"{len(results)} results" if isinstance(results, (list, tuple)) else type(results).__name__
                return Failure(
                    500, "model_error",
                    f"process_batch returned {got} for {len(requests)} requests: it must return one per request",
                )
            for i, result in zip(valid, results):
                entries[i] = failure_from_exception(result) if isinstance(result, BaseException) else _encoded(result)
        return [entry for entry in entries if entry is not None]

    def _parse(self, data: Any) -> Any:
        model = self.spec.request_model
        if model is None:
            if not isinstance(data, dict):
                raise Failure(422, "validation_error", "the request must be a JSON object")
            return data
        try:
            return compat.validate(model, data)
        except Exception as err:
            if compat.is_validation_error(err):
                raise failure_from_validation_error(err) from err
            raise failure_from_exception(err) from err

    def _call(self, method: Any, *args: Any) -> Any:
        result = method(*args)
        if inspect.isawaitable(result):
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
            result = self._loop.run_until_complete(_awaited(result))
        return result

    @staticmethod
    def _after_exception(err: BaseException, ctx: Context) -> Union[Failure, WasCancelled]:
        if isinstance(err, Cancelled) or ctx.cancelled:
            return WasCancelled()
        return failure_from_exception(err)


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def _encoded(result: Any) -> Union[Done, Failure]:
    try:
        return Done(to_jsonable(result))
    except EncodingError as err:
        return Failure(500, "model_error", str(err))
    except RecursionError:
        return Failure(500, "model_error", "the result is nested too deeply (or refers to itself) to send as JSON")
    except Exception as err:  # pydantic's own serializer, a model's custom encoder
        failure = failure_from_exception(err)
        return Failure(500, "model_error", "the result could not be encoded as JSON", traceback=failure.traceback)


def outcome_message(request_id: Any, outcome: Outcome) -> Dict[str, Any]:
    """The `done`, `failed` or `cancelled` message for one request."""
    if isinstance(outcome, Done):
        return {"type": "done", "id": request_id, "output": outcome.output}
    if isinstance(outcome, Failure):
        return {"type": "failed", "id": request_id, **outcome.to_wire()}
    return {"type": "cancelled", "id": request_id}


def batch_message(request_id: Any, outcome: BatchOutcome) -> Dict[str, Any]:
    """The `done_batch`, `failed` or `cancelled` message for one batch."""
    if isinstance(outcome, list):
        outputs = [{"output": e.output} if isinstance(e, Done) else {"error": e.to_wire()} for e in outcome]
        return {"type": "done_batch", "id": request_id, "outputs": outputs}
    return outcome_message(request_id, outcome)
