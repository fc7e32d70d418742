"""A Python service with one field of each kind the generated GUI draws differently: a bounded int (a
slider), an enum (a drop-down), a bool (a checkbox) and a described text field. The desktop test
(crates/easymlserve-cli/tests/desktop_generated.rs) serves it with `easymlserve serve --python` and
checks the egui window generated from its schema."""

from typing import Literal

from pydantic import BaseModel, Field

from easymlserve import Service


class Request(BaseModel):
    text: str = Field(..., description="The words to dress up.")
    times: int = Field(3, ge=1, le=9, description="How often to repeat them.")
    case: Literal["lower", "upper", "title"] = Field("lower", description="The letter case.")
    exclaim: bool = Field(False, description="End with an exclamation mark.")


class Response(BaseModel):
    text: str = Field(..., description="The dressed-up words.")


class DesktopForm(Service):
    """Repeats a text in a chosen case; its GUI is generated from these models."""

    name = "Desktop form"
    version = "1.0.0"

    def process(self, request: Request) -> Response:
        words = " ".join([request.text] * request.times)
        words = {"lower": words.lower(), "upper": words.upper(), "title": words.title()}[request.case]
        return Response(text=words + ("!" if request.exclaim else ""))
