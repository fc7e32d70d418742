"""A service that prints to stdout while loading and answering: prints must not reach the protocol."""

import sys
from typing import Any, Dict

from easymlserve import Service


class Chatty(Service):
    def load_model(self) -> None:
        print("loading the model")
        print("a warning on stderr", file=sys.stderr)

    def process(self, request: Dict[str, Any]) -> Dict[str, Any]:
        print(f"processing {request}")
        sys.stdout.write("\x00\x00\x00\x05{}{}{}\n")  # bytes that would break a frame if stdout were the channel
        return {"echo": request}
