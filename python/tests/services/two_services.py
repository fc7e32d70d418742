"""A file with two services and no deploy(): the worker must ask which one (`two_services.py:Second`)."""

from typing import Any, Dict

from easymlserve import Service


class First(Service):
    def process(self, request: Dict[str, Any]) -> Dict[str, Any]:
        return {"which": "first"}


class Second(Service):
    def process(self, request: Dict[str, Any]) -> Dict[str, Any]:
        return {"which": "second"}
