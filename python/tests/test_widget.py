"""`easymlserve.widget`: the `x-easymlserve-widget` override lands in the exported request and response
schemas under pydantic 1 and 2 (the same file runs in both environments), on a field and on a whole model,
and a misspelt widget name is refused when the model is defined."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest
from pydantic import BaseModel, Field
from pydantic import v1 as pydantic_v1

import easymlserve
from easymlserve.compat import PYDANTIC_V2, model_schema
from easymlserve.widget import WIDGET_KEY


class Series(BaseModel):
    time: List[str] = Field(..., **easymlserve.widget("time_series_csv", fills=["time", "energy"]))
    energy: List[float]
    speed: int = Field(3, ge=0, le=50, **easymlserve.widget("slider", step=5))


def properties(schema: Dict[str, Any]) -> Dict[str, Any]:
    return schema["properties"]


def test_a_field_override_is_in_the_schema() -> None:
    props = properties(model_schema(Series))
    assert props["time"][WIDGET_KEY] == {"widget": "time_series_csv", "fills": ["time", "energy"]}
    assert props["speed"][WIDGET_KEY] == {"widget": "slider", "step": 5}
    assert props["speed"]["maximum"] == 50
    assert WIDGET_KEY not in props["energy"]


def test_a_model_override_is_in_the_models_own_schema() -> None:
    extra = easymlserve.widget_extra("label_overlay", over="image")
    if PYDANTIC_V2:
        from pydantic import ConfigDict

        class Labels(BaseModel):
            model_config = ConfigDict(json_schema_extra=extra)
            image: str

    else:

        class Labels(BaseModel):  # type: ignore[no-redef]
            image: str

            class Config:
                schema_extra = extra

    assert model_schema(Labels)[WIDGET_KEY] == {"widget": "label_overlay", "over": "image"}


def test_pydantic_v1_models_take_the_extension_as_a_keyword() -> None:
    class Old(pydantic_v1.BaseModel):
        picture: str = pydantic_v1.Field(..., **easymlserve.widget_extra("image"))

    assert model_schema(Old)["properties"]["picture"][WIDGET_KEY] == {"widget": "image"}


def test_an_unknown_widget_is_refused_with_its_name() -> None:
    with pytest.raises(ValueError, match="unknown widget 'slidr'.*slider"):
        easymlserve.widget("slidr")
