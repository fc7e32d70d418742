"""Model results as JSON: pydantic models, dicts, lists and tuples, numpy arrays and scalars, dates.

Models return whatever is natural to them (a numpy array, a dict of `np.float32`, a pydantic model); the
worker turns it into JSON data here. numpy is never imported by this module: a numpy value can only exist
if the model imported numpy already. JSON has no NaN or infinity, so a result holding one is refused with
the path of the value, instead of being sent as invalid JSON or silently as null.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import math
import pathlib
import sys
import uuid
from typing import Any, Dict, List

from . import compat


class EncodingError(ValueError):
    """A result that cannot be sent as JSON; the message names where in the result it failed."""


def _where(path: str) -> str:
    return f"at `{path}`" if path else "at the top level"


def _finite(value: float, path: str) -> float:
    if math.isfinite(value):
        return value
    raise EncodingError(
        f"the result holds {value} {_where(path)}, and JSON has no NaN or infinity: "
        "replace it (with None, for example) before returning"
    )


def to_jsonable(value: Any, path: str = "") -> Any:
    """`value` as plain JSON data (dict, list, str, int, float, bool, None); raises EncodingError."""
    if value is None or type(value) in (str, int, bool):
        return value
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value, path)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return _finite(float(value), path)
    if isinstance(value, dict):
        return {_key(k, path): to_jsonable(v, _join(path, k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, f"{path}[{i}]") for i, v in enumerate(value)]
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, (numpy.ndarray, numpy.generic)):
        return _numpy(numpy, value, path)
    if compat.is_model(value):
        return to_jsonable(compat.dump(value, fallback=lambda v: to_jsonable(v, path)), path)
    return _other(value, path)


def _numpy(numpy: Any, value: Any, path: str) -> Any:
    if isinstance(value, numpy.generic):
        return to_jsonable(value.item(), path)
    kind = value.dtype.kind
    if kind in "biu":
        converted: List[Any] = value.tolist()
        return converted
    if kind == "f":
        finite = numpy.isfinite(value)
        if not finite.all():
            index = tuple(int(i) for i in numpy.argwhere(~finite)[0])
            bad_path = path + "".join(f"[{i}]" for i in index)
            _finite(float(value[index]), bad_path)
        converted = value.tolist()
        return converted
    return to_jsonable(value.tolist(), path)


def _other(value: Any, path: str) -> Any:
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return _finite(float(value), path)
    if isinstance(value, (uuid.UUID, pathlib.PurePath)):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return [to_jsonable(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return to_jsonable(fields, path)
    if isinstance(value, (bytes, bytearray)):
        raise EncodingError(
            f"the result holds bytes {_where(path)}, which JSON cannot carry: encode them (base64, for example)"
        )
    raise EncodingError(
        f"the result holds a {type(value).__module__}.{type(value).__qualname__} {_where(path)}, "
        "which cannot be sent as JSON"
    )


def _key(key: Any, path: str) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, enum.Enum):
        return _key(key.value, path)
    if isinstance(key, bool) or key is None:
        return json.dumps(key)
    if isinstance(key, (int, float)):
        return str(to_jsonable(key, path))
    raise EncodingError(f"the result has a dict key of type {type(key).__name__} {_where(path)}: JSON keys are strings")


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def dumps(message: Dict[str, Any]) -> bytes:
    """A message already made of JSON data, as compact UTF-8 JSON (NaN refused)."""
    return json.dumps(message, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
