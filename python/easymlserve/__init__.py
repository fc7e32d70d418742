"""easymlserve's Python SDK: write a model as a `Service`, serve it with the Rust server.

    from pydantic import BaseModel
    import easymlserve

    class Request(BaseModel):
        text: str

    class Response(BaseModel):
        length: int

    class Length(easymlserve.Service):
        \"\"\"Counts characters.\"\"\"

        def process(self, request: Request) -> Response:
            return Response(length=len(request.text))

`easymlserve serve --python service.py` then serves it at `POST /process`, in worker processes that this
package's `easymlserve.worker` runs. Files written for the original EasyMLServe keep working through
`EasyMLService` and `EasyMLServer`.
"""

from ._version import __version__
from .context import Context, current_context, progress
from .errors import Cancelled, HTTPException, InvalidInput
from .original import DeployError, EasyMLServer, EasyMLService
from .service import Service
from .widget import widget, widget_extra

__all__ = [
    "Cancelled",
    "Context",
    "DeployError",
    "EasyMLServer",
    "EasyMLService",
    "HTTPException",
    "InvalidInput",
    "Service",
    "__version__",
    "current_context",
    "progress",
    "widget",
    "widget_extra",
]
