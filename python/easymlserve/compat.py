"""Pydantic 1 and 2 behind one set of functions.

Services written for the original EasyMLServe use pydantic 1 (`schema()`, `parse_obj`, `.dict()`), new ones
pydantic 2 (`model_json_schema()`, `model_validate`, `model_dump`); under pydantic 2 a model may even come
from `pydantic.v1`. Everything else in the SDK calls these functions and never asks which version it has.
Each function looks at the model it is given, so both kinds of model work in one process.
"""

from __future__ import annotations

import importlib
import json
from typing import Any, Callable, Dict, List, Optional, Tuple, Type

import pydantic

PYDANTIC_V2: bool = pydantic.VERSION.startswith("2.")
"""Whether the installed pydantic is version 2 (models from `pydantic.v1` are still handled)."""

JsonSchema = Dict[str, Any]
Loc = Tuple[Any, ...]


def _optional_attr(module: str, name: str) -> Optional[Any]:
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


def _classes(*candidates: Optional[Any]) -> Tuple[type, ...]:
    return tuple(c for c in candidates if isinstance(c, type))


_MODEL_BASES = _classes(pydantic.BaseModel, _optional_attr("pydantic.v1", "BaseModel") if PYDANTIC_V2 else None)
_VALIDATION_ERRORS = _classes(
    pydantic.ValidationError, _optional_attr("pydantic.v1", "ValidationError") if PYDANTIC_V2 else None
)


def is_model_class(annotation: Any) -> bool:
    """Whether `annotation` is a pydantic model class (of either version)."""
    return isinstance(annotation, type) and issubclass(annotation, _MODEL_BASES)


def is_model(value: Any) -> bool:
    """Whether `value` is an instance of a pydantic model (of either version)."""
    return isinstance(value, _MODEL_BASES)


def _is_v2_model(model: Any) -> bool:
    return hasattr(model, "model_json_schema")


def model_schema(model: Type[Any], mode: str = "validation") -> JsonSchema:
    """The JSON Schema of a model class: `mode` "validation" for what it accepts, "serialization" for what
    it emits (pydantic 2 tells them apart; pydantic 1 has one schema). Pydantic 2 puts nested models under
    `$defs`, pydantic 1 under `definitions`; both are referenced by JSON pointers and left as they are.
    Pydantic 1 does not say that an `Optional` field accepts `null`; here it does, as pydantic 2 does, so a
    client sending `null` where the model takes `None` is not refused by a validator reading the schema."""
    if _is_v2_model(model):
        schema: JsonSchema = model.model_json_schema(mode=mode)
        return schema
    schema = json.loads(model.schema_json())
    _v1_mark_nullable(model, schema)
    return schema


def _v1_schema_module(model: Type[Any]) -> Any:
    for base in model.__mro__:
        if base.__name__ == "BaseModel" and base.__module__.endswith(".main"):
            return importlib.import_module(base.__module__[: -len(".main")] + ".schema")
    return importlib.import_module("pydantic.schema")


def _v1_mark_nullable(model: Type[Any], schema: JsonSchema) -> None:
    schema_module = _v1_schema_module(model)
    flat_models = schema_module.get_flat_models_from_model(model)
    names: Dict[Any, str] = schema_module.get_model_name_map(flat_models)
    definitions = schema.get("definitions", {})
    for each, name in names.items():
        if not hasattr(each, "__fields__"):
            continue  # an enum: its definition has no properties
        target = schema if each is model else definitions.get(name)
        if not isinstance(target, dict):
            continue
        properties = target.get("properties", {})
        for field in each.__fields__.values():
            prop = properties.get(field.alias)
            if field.allow_none and isinstance(prop, dict):
                properties[field.alias] = _nullable(prop)


_ANNOTATION_KEYS = ("title", "description", "default", "examples")


def _nullable(prop: JsonSchema) -> JsonSchema:
    inner = {k: v for k, v in prop.items() if k not in _ANNOTATION_KEYS}
    if not inner or inner.get("type") == "null":
        return prop
    outer = {k: v for k, v in prop.items() if k in _ANNOTATION_KEYS}
    outer["anyOf"] = [inner, {"type": "null"}]
    return outer


def type_schema(annotation: Any) -> Optional[JsonSchema]:
    """The JSON Schema of a type that is not a model (`List[Forecast]`, `str`), or None if pydantic cannot
    describe it."""
    try:
        if PYDANTIC_V2:
            adapter = pydantic.TypeAdapter(annotation)
            schema: JsonSchema = adapter.json_schema(mode="serialization")
            return schema
        schema_of: Callable[..., JsonSchema] = getattr(importlib.import_module("pydantic.tools"), "schema_of")
        schema = schema_of(annotation)
        schema.pop("title", None)
        return schema
    except Exception:
        return None


def validate(model: Type[Any], data: Any) -> Any:
    """An instance of `model` built from JSON data; raises the model's ValidationError."""
    if _is_v2_model(model):
        return model.model_validate(data)
    return model.parse_obj(data)


def dump(instance: Any, fallback: Callable[[Any], Any]) -> Any:
    """A model instance as JSON data (datetimes as ISO strings, enums as values, and so on), fields named
    by their aliases as in the schema (and as FastAPI sent them). Values pydantic cannot encode itself
    (numpy arrays in an `Any` field) are left to `fallback` (pydantic 1) or returned as Python objects
    for the caller's encoder (pydantic 2). Non-finite floats are kept, for the caller to refuse."""
    if _is_v2_model(instance):
        try:
            return instance.model_dump(mode="json", by_alias=True)
        except Exception as err:
            if type(err).__name__ != "PydanticSerializationError":
                raise
            return instance.model_dump(mode="python", by_alias=True)
    own_encoder: Callable[[Any], Any] = instance.__json_encoder__

    def encoder(value: Any) -> Any:
        try:
            return own_encoder(value)
        except TypeError:
            return fallback(value)

    return json.loads(instance.json(encoder=encoder, by_alias=True))


def is_validation_error(err: BaseException) -> bool:
    """Whether `err` is a pydantic ValidationError (of either version)."""
    return isinstance(err, _VALIDATION_ERRORS)


def validation_errors(err: BaseException) -> List[Tuple[Loc, str]]:
    """The (location, message) pairs of a pydantic ValidationError, in the order pydantic lists them."""
    errors: List[Dict[str, Any]] = getattr(err, "errors")()
    return [(tuple(e.get("loc", ())), str(e.get("msg", ""))) for e in errors]
