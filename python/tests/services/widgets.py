"""A service whose GUI is generated with per-field overrides set from Python (`easymlserve.widget`): a
slider with its own step on one field, the rest from the schema. crates/easymlserve-python-tests serves it
through `easymlserve serve --python` and checks the generated GUI."""

from __future__ import annotations

from typing import List

from pydantic import BaseModel, Field

import easymlserve


class Request(BaseModel):
    text: str = Field(..., description="The text to repeat.")
    repeat: int = Field(2, ge=0, le=50, description="How often.", **easymlserve.widget("slider", step=5))
    weights: List[float] = Field(default_factory=list, description="Some numbers.")


class Response(BaseModel):
    text: str = Field(..., description="The result.")
    length: int = Field(..., **easymlserve.widget("number", unit="chars"))


class Widgets(easymlserve.Service):
    """Repeats a text; its GUI is generated."""

    def process(self, request: Request) -> Response:
        text = request.text * request.repeat
        return Response(text=text, length=len(text))
