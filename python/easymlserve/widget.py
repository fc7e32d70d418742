"""Per-field overrides of the generated GUI: `x-easymlserve-widget` in a field's JSON Schema names the
component the GUI draws for that field (or, on a model's own schema, for the whole request or response).
The Rust side reads it (`crates/easymlserve-ui/src/widget.rs`); `docs/generated-gui.md` lists every widget
and its options.

    class Request(BaseModel):
        picture: Image = Field(..., **easymlserve.widget("image"))

A misspelt name raises `ValueError` when the class is defined, so the service fails at start-up with the
name of the widget instead of serving a GUI without it.
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

from .compat import PYDANTIC_V2

WIDGET_KEY = "x-easymlserve-widget"

#: Widgets a request field (or the request) may name.
INPUT_WIDGETS: Tuple[str, ...] = (
    "text",
    "text_long",
    "json",
    "number",
    "slider",
    "dropdown",
    "checkboxes",
    "checkbox",
    "number_list",
    "text_list",
    "date_time",
    "image",
    "time_series_csv",
    "camera",
    "dataframe",
    "audio",
    "hidden",
)

#: Widgets a response field (or the response) may name.
OUTPUT_WIDGETS: Tuple[str, ...] = (
    "text",
    "number",
    "table",
    "plot",
    "image",
    "label_overlay",
    "label",
    "gallery",
    "annotated_image",
    "markdown",
    "audio",
    "json",
    "hidden",
)


def widget_extra(name: str, **options: Any) -> Dict[str, Any]:
    """The schema extension itself, `{"x-easymlserve-widget": {"widget": name, **options}}`: for a model's
    own schema (`model_config = ConfigDict(json_schema_extra=...)` in pydantic 2, `Config.schema_extra` in
    pydantic 1) or as `Field(..., **widget_extra(...))` on a `pydantic.v1` model."""
    known = INPUT_WIDGETS + tuple(w for w in OUTPUT_WIDGETS if w not in INPUT_WIDGETS)
    if name not in known:
        raise ValueError(f"unknown widget {name!r}; known: {', '.join(known)}")
    return {WIDGET_KEY: {"widget": name, **options}}


def widget(name: str, **options: Any) -> Dict[str, Any]:
    """Keyword arguments for `pydantic.Field` that set the widget of one field, for the installed pydantic:
    `json_schema_extra=...` under pydantic 2, the extra keyword itself under pydantic 1."""
    extra = widget_extra(name, **options)
    return {"json_schema_extra": extra} if PYDANTIC_V2 else extra
