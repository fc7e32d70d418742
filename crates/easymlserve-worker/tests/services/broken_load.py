"""A test service whose `load_model` raises: the server must stay up, not ready, and say why."""

from pydantic import BaseModel

from easymlserve import Service


class Request(BaseModel):
    x: int


class Response(BaseModel):
    y: int


class BrokenLoad(Service):
    def load_model(self) -> None:
        raise FileNotFoundError("the weights file weights.bin is missing")

    def process(self, request: Request) -> Response:
        return Response(y=request.x)
