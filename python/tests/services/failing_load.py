"""A service whose load_model raises: the worker must answer setup_failed and exit non-zero."""

from typing import Any, Dict

from easymlserve import Service


class Broken(Service):
    def load_model(self) -> None:
        open_model("models/missing.pkl")

    def process(self, request: Dict[str, Any]) -> Dict[str, Any]:
        return request


def open_model(path: str) -> None:
    raise FileNotFoundError(f"no model file at {path}")
