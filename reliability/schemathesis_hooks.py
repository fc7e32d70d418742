"""Schemathesis checks for easymlserve, loaded through SCHEMATHESIS_HOOKS by reliability/schemathesis.sh.

Two built-in checks are too blunt for a server that runs someone else's model:

* `not_a_server_error` fails on every 5xx. Here a 500 whose body says the *model* failed
  (`error_type` `model_error` or `model_panic`) is the model's answer to a strange input, which the
  server turns into a clean, documented error; the script counts those separately. Every other 5xx
  (an `internal_error`, a 500 without the error body, a 502, a 503 or a 504 timeout) still fails.
* `positive_data_acceptance` wants every schema-valid request to be accepted. A JSON Schema cannot
  say "a real PNG" or "one load value per timestamp", so the model may refuse a schema-valid request
  with 422 `invalid_input`. That refusal is allowed; a 422 `validation_error` (the server's own
  validation contradicting the published schema) or any other 4xx still fails.

Both wrap the built-in check, so its own heuristics (content-type probes, skips) still apply.
"""

from __future__ import annotations

import json

import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

MODEL_FAILURES = frozenset({"model_error", "model_panic"})
MODEL_REFUSAL = "invalid_input"


def _error_type(response) -> str | None:
    """The `error_type` of an easymlserve error body, or None when the body is not one."""
    try:
        body = json.loads(response.content or b"")
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(body, dict) and isinstance(body.get("error_type"), str):
        return body["error_type"]
    return None


@schemathesis.check
def not_a_server_error_except_model(ctx, response, case):
    """No 5xx, except a 500 that reports the model's own failure in the error body."""
    if response.status_code == 500 and _error_type(response) in MODEL_FAILURES:
        return None
    return not_a_server_error(ctx, response, case)


@schemathesis.check
def positive_data_acceptance_except_model(ctx, response, case):
    """Schema-valid requests are accepted, unless the model refuses them with 422 `invalid_input`."""
    if response.status_code == 422 and _error_type(response) == MODEL_REFUSAL:
        return None
    return positive_data_acceptance(ctx, response, case)
