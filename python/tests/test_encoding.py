"""Results as JSON: models, containers, numpy, dates; NaN and infinity refused with where they are."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import math
import uuid
from typing import Any, List

import pytest
from pydantic import BaseModel, Field

from easymlserve.encoding import EncodingError, to_jsonable


class Color(str, enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 2


class Reading(BaseModel):
    at: datetime.datetime
    values: List[float]
    color: Color


@dataclasses.dataclass
class Box:
    width: int
    tags: Any


def test_plain_containers_and_scalars() -> None:
    value = {"a": (1, 2.5, "x"), "b": [True, None], 3: {"nested": {1, }}}
    assert to_jsonable(value) == {"a": [1, 2.5, "x"], "b": [True, None], "3": {"nested": [1]}}


def test_models_dates_enums_and_dataclasses() -> None:
    reading = Reading(at=datetime.datetime(2022, 12, 1, 8, 30), values=[1, 2], color=Color.RED)
    value = {
        "reading": reading,
        "day": datetime.date(2022, 12, 1),
        "took": datetime.timedelta(seconds=1.5),
        "level": Level.HIGH,
        "color": Color.RED,
        "box": Box(3, ("a",)),
        "id": uuid.UUID(int=1),
    }
    assert to_jsonable(value) == {
        "reading": {"at": "2022-12-01T08:30:00", "values": [1.0, 2.0], "color": "red"},
        "day": "2022-12-01",
        "took": 1.5,
        "level": 2,
        "color": "red",
        "box": {"width": 3, "tags": ["a"]},
        "id": "00000000-0000-0000-0000-000000000001",
    }


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_floats_are_refused_with_their_path(bad: float) -> None:
    with pytest.raises(EncodingError, match=r"at `forecasts\[1\]\.energy\[2\]`.*JSON has no NaN or infinity"):
        to_jsonable({"forecasts": [{"energy": [1.0]}, {"energy": [1.0, 2.0, bad]}]})


def test_nan_inside_a_model_is_refused() -> None:
    reading = Reading(at=datetime.datetime(2022, 1, 1), values=[1, math.nan], color=Color.RED)
    with pytest.raises(EncodingError, match=r"nan at `values\[1\]`"):
        to_jsonable(reading)


def test_what_json_cannot_carry() -> None:
    with pytest.raises(EncodingError, match=r"bytes at `image`.*base64"):
        to_jsonable({"image": b"\x89PNG"})
    with pytest.raises(EncodingError, match=r"builtins.object at `thing`"):
        to_jsonable({"thing": object()})
    with pytest.raises(EncodingError, match="dict key of type tuple"):
        to_jsonable({(1, 2): "pair"})


def test_numpy_arrays_and_scalars() -> None:
    np = pytest.importorskip("numpy")
    value = {
        "ints": np.arange(3, dtype=np.int64),
        "matrix": np.array([[1.5, 2.0], [3.0, 4.0]], dtype=np.float32),
        "mask": np.array([True, False]),
        "scalar": np.float32(0.5),
        "count": np.int16(7),
        "flag": np.bool_(True),
        "mixed": np.array([1, "a", None], dtype=object),
        "in_a_list": [np.uint8(255)],
    }
    encoded = to_jsonable(value)
    assert encoded == {
        "ints": [0, 1, 2],
        "matrix": [[1.5, 2.0], [3.0, 4.0]],
        "mask": [True, False],
        "scalar": 0.5,
        "count": 7,
        "flag": True,
        "mixed": [1, "a", None],
        "in_a_list": [255],
    }
    assert type(encoded["count"]) is int and type(encoded["flag"]) is bool


def test_numpy_nan_is_refused_with_its_index() -> None:
    np = pytest.importorskip("numpy")
    matrix = np.zeros((2, 3))
    matrix[1, 2] = np.nan
    with pytest.raises(EncodingError, match=r"at `out\[1\]\[2\]`"):
        to_jsonable({"out": matrix})
    with pytest.raises(EncodingError, match=r"inf at `x`"):
        to_jsonable({"x": np.float64(np.inf)})


def test_numpy_inside_a_model() -> None:
    np = pytest.importorskip("numpy")

    class Holder(BaseModel):
        data: Any

    assert to_jsonable(Holder(data=np.array([1, 2]))) == {"data": [1, 2]}


class Aliased(BaseModel):
    start_time: datetime.date = Field(..., alias="startTime")


def test_models_are_sent_by_alias_as_their_schema_names_them() -> None:
    assert to_jsonable(Aliased(startTime=datetime.date(2022, 1, 2))) == {"startTime": "2022-01-02"}
