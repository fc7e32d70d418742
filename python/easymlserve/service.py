"""`Service`, the base class of a model served by easymlserve.

A service loads its model once (`load_model`) and then answers requests (`process`). The request and
response types are the pydantic models in the annotations of `process`; the server validates requests
against the request model's JSON Schema before the model sees them, and documents both.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Optional


class Service:
    """Base class of a served model.

    Define `process(self, request: RequestModel) -> ResponseModel`, or `process(self, request, ctx)` to get
    the request context (`easymlserve.Context`), and override `load_model(self)` if the model needs
    loading. Define `process_batch(self, requests)` too when the model is faster on many inputs at once:
    it gets a list of requests and returns one response per request in order (an entry may be an exception
    instance such as `InvalidInput(...)` to fail that request alone); the server then batches requests
    (with `--max-batch-size`).

    Optional class attributes: `name` (default: the class name), `version` (default "0.1.0"),
    `description` (default: the first paragraph of the class docstring) and `example_request` (a dict or
    a request model instance, shown in the documentation).
    """

    name: ClassVar[Optional[str]] = None
    version: ClassVar[str] = "0.1.0"
    description: ClassVar[Optional[str]] = None
    example_request: ClassVar[Any] = None

    # Declared, not defined: a subclass's own signature (with or without `ctx`, its own models) is the
    # contract, and the worker reads it from there.
    process: Callable[..., Any]
    process_batch: Callable[..., Any]

    def load_model(self) -> None:
        """Loads the model; called once in each worker, after the service is built and before it is ready.
        An exception here keeps the server not ready, with the exception shown by `/health/ready`."""
