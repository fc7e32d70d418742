"""Request and response schemas from the annotations of `process`, under pydantic 1 and 2 alike (the same
file runs in both test environments; where the two versions word a schema differently, the assertions
follow the references and accept either wording)."""

from __future__ import annotations

import datetime
import enum
from typing import Any, Dict, List, Literal, Optional

import pydantic
import pytest
from pydantic import BaseModel, Field
from pydantic import v1 as pydantic_v1

from easymlserve import Context, EasyMLService, Service
from easymlserve.compat import PYDANTIC_V2, model_schema
from easymlserve.errors import Failure
from easymlserve.runner import Done, Runner
from easymlserve.spec import ServiceDefinitionError, describe

Schema = Dict[str, Any]


class Point(BaseModel):
    lat: float = Field(..., ge=-90, le=90, description="Latitude in degrees")
    lon: float = Field(..., gt=-180, lt=180)


def versioned_field(default: Any, v2: Dict[str, Any], v1: Dict[str, Any], **common: Any) -> Any:
    """A `Field` with the keyword arguments that pydantic 1 and 2 name differently."""
    return Field(default, **common, **(v2 if PYDANTIC_V2 else v1))


class Request(BaseModel):
    points: List[Point] = versioned_field(..., {"min_length": 1}, {"min_items": 1})
    unit: Literal["km", "mi"] = "km"
    precise: Literal[True] = True
    label: Optional[str] = None
    origin: Optional[Point] = None
    name: str = versioned_field("route", {"pattern": "^[a-z]+$"}, {"regex": "^[a-z]+$"}, max_length=20)


class Response(BaseModel):
    distance: float
    legs: List[float]


def resolve(root: Schema, schema: Schema) -> Schema:
    """`schema` with a `$ref` (to `#/$defs/...` or `#/definitions/...`) followed, and an `allOf` of one
    reference (how pydantic 1 writes a described reference) unwrapped."""
    if "allOf" in schema and len(schema["allOf"]) == 1:
        schema = schema["allOf"][0]
    ref = schema.get("$ref")
    if ref is None:
        return schema
    node: Any = root
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    assert isinstance(node, dict)
    return node


def nullable(root: Schema, schema: Schema) -> Optional[Schema]:
    """The non-null alternative of a schema that accepts null, or None if it does not accept null."""
    for alternative in schema.get("anyOf", []):
        if alternative.get("type") == "null":
            others = [a for a in schema["anyOf"] if a.get("type") != "null"]
            assert len(others) == 1
            return resolve(root, others[0])
    return None


def literal_values(schema: Schema) -> List[Any]:
    return [schema["const"]] if "const" in schema else list(schema["enum"])


@pytest.fixture(scope="module")
def schema() -> Schema:
    return model_schema(Request)


def test_top_level(schema: Schema) -> None:
    assert schema["type"] == "object"
    assert schema["required"] == ["points"]
    assert set(schema["properties"]) == {"points", "unit", "precise", "label", "origin", "name"}


def test_nested_model_with_constraints(schema: Schema) -> None:
    points = schema["properties"]["points"]
    assert points["type"] == "array"
    assert points["minItems"] == 1
    point = resolve(schema, points["items"])
    assert point["required"] == ["lat", "lon"]
    lat, lon = point["properties"]["lat"], point["properties"]["lon"]
    assert (lat["minimum"], lat["maximum"], lat["description"]) == (-90, 90, "Latitude in degrees")
    assert (lon["exclusiveMinimum"], lon["exclusiveMaximum"]) == (-180, 180)
    assert "$defs" in schema if PYDANTIC_V2 else "definitions" in schema


def test_literals(schema: Schema) -> None:
    unit = schema["properties"]["unit"]
    assert literal_values(unit) == ["km", "mi"]
    assert unit["default"] == "km"
    assert literal_values(schema["properties"]["precise"]) == [True]


def test_optionals_accept_null(schema: Schema) -> None:
    label = schema["properties"]["label"]
    assert nullable(schema, label) == {"type": "string"}
    assert label.get("default") is None
    origin = nullable(schema, schema["properties"]["origin"])
    assert origin is not None and origin["required"] == ["lat", "lon"]
    # Required fields stay non-nullable.
    assert nullable(schema, schema["properties"]["points"]) is None


def test_string_constraints(schema: Schema) -> None:
    name = schema["properties"]["name"]
    assert (name["maxLength"], name["pattern"], name["default"]) == (20, "^[a-z]+$", "route")


class Mood(str, enum.Enum):
    CALM = "calm"
    ANGRY = "angry"


class Inner(BaseModel):
    note: Optional[int] = None
    mood: Optional[Mood] = None


class Outer(BaseModel):
    inner: Inner


def test_nullable_in_a_nested_model_under_pydantic_1_too() -> None:
    schema = model_schema(Outer)
    inner = resolve(schema, schema["properties"]["inner"])
    assert nullable(schema, inner["properties"]["note"]) == {"type": "integer"}
    mood = nullable(schema, inner["properties"]["mood"])
    assert mood is not None and mood["enum"] == ["calm", "angry"]


class Typed(Service):
    """Measures routes.

    Details that stay out of the description.
    """

    example_request = Request(points=[Point(lat=1, lon=2)])

    def process(self, request: Request) -> Response:
        return Response(distance=0, legs=[])


def test_service_spec_from_annotations() -> None:
    spec = describe(Typed())
    assert spec.info() == {"name": "Typed", "version": "0.1.0", "description": "Measures routes."}
    assert spec.request_model is Request
    assert spec.request_schema == model_schema(Request)
    assert spec.response_schema["required"] == ["distance", "legs"]
    assert spec.example_request == {
        "points": [{"lat": 1.0, "lon": 2.0}], "unit": "km", "precise": True, "label": None, "origin": None, "name": "route",
    }
    assert spec.capabilities() == {"batching": False, "progress": False, "cancellation": False}


class Named(Service):
    name = "route-planner"
    version = "2.0.0"
    description = "Plans routes."

    def process(self, request: Request, ctx: Context) -> List[Response]:
        return []

    def process_batch(self, requests: List[Request]) -> List[List[Response]]:
        return [[] for _ in requests]


def test_explicit_info_context_and_batching() -> None:
    spec = describe(Named())
    assert spec.info() == {"name": "route-planner", "version": "2.0.0", "description": "Plans routes."}
    assert spec.capabilities() == {"batching": True, "progress": True, "cancellation": True}
    assert not spec.batch_takes_context
    assert spec.response_schema["type"] == "array"
    assert resolve(spec.response_schema, spec.response_schema["items"])["required"] == ["distance", "legs"]


class Untyped(Service):
    def process(self, request):  # type: ignore[no-untyped-def]
        return request


class DictTyped(Service):
    def process(self, request: Dict[str, Any], threshold: float = 0.5) -> Dict[str, Any]:
        return request


class BareDict(EasyMLService):
    def process(self, request: dict) -> dict:  # type: ignore[type-arg]
        return request


@pytest.mark.parametrize("cls", [Untyped, DictTyped, BareDict])
def test_untyped_json(cls: type) -> None:
    spec = describe(cls())
    assert spec.request_model is None
    assert spec.request_schema == {"type": "object"}
    assert spec.response_schema == {}
    # A second parameter with a default is the model's own option, not the context.
    assert not spec.process_takes_context


class ContextWithDefault(Service):
    def process(self, request: Dict[str, Any], ctx: Optional[Context] = None) -> Dict[str, Any]:
        return request


def test_a_parameter_annotated_as_context_is_the_context() -> None:
    assert describe(ContextWithDefault()).process_takes_context


class NotAModel(Service):
    def process(self, request: int) -> int:
        return request


class Unresolvable(Service):
    def process(self, request: "NoSuchModel") -> None:  # type: ignore[name-defined]  # noqa: F821
        pass


class NoProcess(Service):
    pass


@pytest.mark.parametrize(
    "cls, match",
    [
        (NotAModel, "annotate it with a pydantic model"),
        (Unresolvable, "cannot resolve the type annotations of Unresolvable.process"),
        (NoProcess, "NoProcess has no process"),
    ],
)
def test_services_that_cannot_be_described(cls: type, match: str) -> None:
    with pytest.raises(ServiceDefinitionError, match=match):
        describe(cls())


def test_pydantic_version_is_the_one_installed() -> None:
    assert PYDANTIC_V2 == pydantic.VERSION.startswith("2.")



# pydantic 2 ships pydantic 1 as `pydantic.v1`, and pydantic 1.10.17 and later alias it too: a service may
# use either kind of model under pydantic 2.
class Legacy(pydantic_v1.BaseModel):
    count: int = pydantic_v1.Field(..., ge=0)
    note: Optional[str] = None


class LegacyService(Service):
    def process(self, request: Legacy) -> Legacy:
        return request


def test_pydantic_v1_models() -> None:
    runner = Runner(LegacyService())
    schema = runner.spec.request_schema
    assert schema["properties"]["count"]["minimum"] == 0
    assert nullable(schema, schema["properties"]["note"]) == {"type": "string"}
    done = runner.run({"count": 2}, Context("r"))
    assert isinstance(done, Done) and done.output == {"count": 2, "note": None}
    failed = runner.run({"count": -1}, Context("r"))
    assert isinstance(failed, Failure) and (failed.error_type, failed.field) == ("validation_error", "count")


class WithDefaults(BaseModel):
    since: datetime.date = datetime.date(2022, 1, 1)
    start_time: int = Field(0, alias="startTime")


def test_defaults_that_are_not_json_types_and_aliases() -> None:
    schema = model_schema(WithDefaults)
    assert schema["properties"]["since"]["default"] == "2022-01-01"
    assert "startTime" in schema["properties"]
