"""An original-style service that deploys at import, without a `__main__` guard, and whose constructor
needs an argument: the worker must serve the instance that `deploy()` registered."""

from typing import Any, Dict

from easymlserve import EasyMLServer, EasyMLService


class Greeter(EasyMLService):
    """Greets."""

    def __init__(self, greeting: str) -> None:
        self.greeting = greeting
        super().__init__()

    def process(self, request: Dict[str, Any]) -> Dict[str, Any]:
        return {"text": f"{self.greeting}, {request.get('name', 'world')}"}


service = Greeter("Hello")
server = EasyMLServer(service, uvicorn_args={"host": "0.0.0.0", "port": 8000})
server.deploy()
