"""The exceptions a model raises to refuse a request, and how every exception becomes a protocol failure.

`InvalidInput` is the model saying "this input is wrong" (422, with the field if known). Any exception with
an integer `status_code` and a `detail`, as FastAPI's and Starlette's `HTTPException` have, keeps its
status, so services written for the original EasyMLServe refuse requests as they did. Everything else is
a model failure: a 500 whose message says only that the model failed, the traceback kept for the log.
"""

from __future__ import annotations

import http
import json
import traceback
from typing import Any, Dict, Optional, Sequence, Tuple

from . import compat

GENERIC_FAILURE = "the model failed"
"""The message of every 500 that came from an unexpected exception: details go to `traceback`."""


class InvalidInput(Exception):
    """Raised by a model that refuses its input: answered with 422 `invalid_input`, naming `field` (a path
    such as `time[3]`) when given."""

    def __init__(self, message: str, field: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class HTTPException(Exception):
    """A stand-in for FastAPI's `HTTPException`, for services that raised it: `raise HTTPException(404,
    "unknown model")` answers with that status. FastAPI's own class works just as well."""

    def __init__(self, status_code: int, detail: Any = None, headers: Optional[Dict[str, str]] = None) -> None:
        if detail is None:
            detail = _reason_phrase(status_code)
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = headers

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"


class Cancelled(Exception):
    """Raised by a model that stopped because `ctx.cancelled` became true: answered with `cancelled`."""


class Failure(Exception):
    """A failure already in the protocol's terms (status, error type, message, field, traceback)."""

    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        field: Optional[str] = None,
        traceback: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.field = field
        self.traceback = traceback

    def to_wire(self) -> Dict[str, Any]:
        """The fields of a `failed` message (without its `type` and `id`), and of a batch entry's `error`."""
        return {
            "status": self.status,
            "error_type": self.error_type,
            "message": self.message,
            "field": self.field,
            "traceback": self.traceback,
        }


def _reason_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _http_status(err: BaseException) -> Optional[Tuple[int, Any]]:
    status = getattr(err, "status_code", None)
    if isinstance(status, int) and not isinstance(status, bool) and hasattr(err, "detail"):
        return status, getattr(err, "detail")
    return None


def _detail_text(detail: Any) -> str:
    if isinstance(detail, str):
        return detail
    try:
        return json.dumps(detail, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(detail)


def _traceback_of(err: BaseException) -> str:
    return "".join(traceback.format_exception(type(err), err, err.__traceback__))


def failure_from_exception(err: BaseException) -> Failure:
    """The failure to report for an exception raised by the model."""
    if isinstance(err, Failure):
        return err
    if isinstance(err, InvalidInput):
        return Failure(422, "invalid_input", err.message, err.field)
    http_error = _http_status(err)
    if http_error is not None:
        status, detail = http_error
        message = _detail_text(detail if detail is not None else _reason_phrase(status))
        if 400 <= status < 500:
            return Failure(status, f"http_{status}", message)
        if status >= 500:
            return Failure(status, "model_error", message, traceback=_traceback_of(err))
        return Failure(
            500, "model_error", f"the model raised an HTTP status {status}, which is not an error",
            traceback=_traceback_of(err),
        )
    return Failure(500, "model_error", GENERIC_FAILURE, traceback=_traceback_of(err))


def field_path(loc: Sequence[Any]) -> str:
    """A pydantic error location as a field path: `("points", 1, "lat")` -> `points[1].lat`."""
    path = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def failure_from_validation_error(err: BaseException) -> Failure:
    """The 422 for a request that its pydantic model refused, naming the first failing field."""
    errors = compat.validation_errors(err)
    loc, msg = errors[0] if errors else ((), str(err))
    path = field_path(loc)
    message = f"`{path}`: {msg}" if path else msg
    more = len(errors) - 1
    if more > 0:
        message += f" (and {more} more {'error' if more == 1 else 'errors'})"
    return Failure(422, "validation_error", message, path or None)
