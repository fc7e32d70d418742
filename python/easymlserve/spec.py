"""What the server learns about a service from its code: name, version, description, the request and
response JSON Schemas (from the pydantic models in the annotations of `process`), an example request, and
whether it takes the request context or batches.

Reading it from the annotations keeps one source of truth: the model a researcher types is the schema
the Rust server validates against and documents.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import typing
from typing import Any, Callable, Dict, List, Optional, Tuple, Type

from . import compat
from .context import Context
from .encoding import to_jsonable

JsonSchema = Dict[str, Any]

UNTYPED_REQUEST_SCHEMA: JsonSchema = {"type": "object"}
"""The request schema of a `process` whose request is not a pydantic model: any JSON object."""
UNTYPED_RESPONSE_SCHEMA: JsonSchema = {}
"""The response schema of a `process` without a response model: any JSON."""


class ServiceDefinitionError(TypeError):
    """The service class cannot be served as written (no `process`, a request type that is not a model)."""


@dataclasses.dataclass(frozen=True)
class ServiceSpec:
    """A service as the worker reports it in its `ready` message."""

    name: str
    version: str
    description: str
    request_model: Optional[Type[Any]]
    request_schema: JsonSchema
    response_schema: JsonSchema
    example_request: Optional[Any]
    process_takes_context: bool
    batching: bool
    batch_takes_context: bool

    def info(self) -> Dict[str, str]:
        """The `info` object of the `ready` message."""
        return {"name": self.name, "version": self.version, "description": self.description}

    def capabilities(self) -> Dict[str, bool]:
        """The `capabilities` object of the `ready` message."""
        return {
            "batching": self.batching,
            "progress": self.process_takes_context,
            "cancellation": self.process_takes_context,
        }


def describe(service: Any) -> ServiceSpec:
    """Reads the spec of a service instance (a `Service`, an `EasyMLService`, or any object with `process`)."""
    cls = type(service)
    process = getattr(service, "process", None)
    if not callable(process):
        raise ServiceDefinitionError(f"{cls.__name__} has no process(self, request) method")
    parameters = _positional_parameters(process, f"{cls.__name__}.process")
    if not parameters:
        raise ServiceDefinitionError(f"{cls.__name__}.process must take the request as its first parameter")
    hints = _type_hints(process, f"{cls.__name__}.process")
    request_model, request_schema = _request_schema(hints.get(parameters[0].name), cls.__name__)
    batch = getattr(service, "process_batch", None)
    batching = callable(batch)
    batch_takes_context = callable(batch) and _takes_context(
        _positional_parameters(batch, f"{cls.__name__}.process_batch"),
        _type_hints(batch, f"{cls.__name__}.process_batch"),
    )
    return ServiceSpec(
        name=_class_text(cls, "name") or cls.__name__,
        version=_class_text(cls, "version") or "0.1.0",
        description=_class_text(cls, "description") or _first_paragraph(cls.__doc__),
        request_model=request_model,
        request_schema=request_schema,
        response_schema=_response_schema(hints.get("return", inspect.Signature.empty)),
        example_request=_example(getattr(cls, "example_request", None)),
        process_takes_context=_takes_context(parameters, hints),
        batching=batching,
        batch_takes_context=batch_takes_context,
    )


def _positional_parameters(method: Callable[..., Any], what: str) -> List[inspect.Parameter]:
    try:
        signature = inspect.signature(method)
    except (TypeError, ValueError) as err:
        raise ServiceDefinitionError(f"cannot read the signature of {what}: {err}") from err
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p for p in signature.parameters.values() if p.kind in kinds]


def _type_hints(method: Callable[..., Any], what: str) -> Dict[str, Any]:
    function = getattr(method, "__func__", method)
    try:
        return typing.get_type_hints(function)
    except Exception as err:
        raise ServiceDefinitionError(f"cannot resolve the type annotations of {what}: {err!r}") from err


def _takes_context(parameters: List[inspect.Parameter], hints: Dict[str, Any]) -> bool:
    """Whether a second positional parameter is there for the context: annotated as `Context` (or
    `Optional[Context]`), or without a default (a second parameter with a default is the model's own option)."""
    if len(parameters) < 2:
        return False
    second = parameters[1]
    hint = hints.get(second.name)
    return hint is Context or Context in typing.get_args(hint) or second.default is inspect.Parameter.empty


def _is_untyped(annotation: Any) -> bool:
    if annotation in (inspect.Signature.empty, Any, dict, object):
        return True
    if typing.get_origin(annotation) in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
        args = typing.get_args(annotation)
        return not args or args[1] is Any
    return False


def _request_schema(annotation: Any, owner: str) -> Tuple[Optional[Type[Any]], JsonSchema]:
    if annotation is None or _is_untyped(annotation):
        return None, dict(UNTYPED_REQUEST_SCHEMA)
    if compat.is_model_class(annotation):
        return annotation, compat.model_schema(annotation, mode="validation")
    raise ServiceDefinitionError(
        f"the request of {owner}.process is annotated as {annotation!r}: annotate it with a pydantic model "
        "(or dict, for any JSON object)"
    )


def _response_schema(annotation: Any) -> JsonSchema:
    if _is_untyped(annotation):
        return dict(UNTYPED_RESPONSE_SCHEMA)
    if compat.is_model_class(annotation):
        return compat.model_schema(annotation, mode="serialization")
    return compat.type_schema(annotation) or dict(UNTYPED_RESPONSE_SCHEMA)


def _class_text(cls: type, attribute: str) -> Optional[str]:
    value = getattr(cls, attribute, None)
    return value if isinstance(value, str) and value else None


def _first_paragraph(doc: Optional[str]) -> str:
    if not doc:
        return ""
    paragraph = inspect.cleandoc(doc).split("\n\n", 1)[0]
    return " ".join(line.strip() for line in paragraph.splitlines()).strip()


def _example(example: Any) -> Optional[Any]:
    return None if example is None else to_jsonable(example, "example_request")
