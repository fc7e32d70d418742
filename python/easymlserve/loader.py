"""Finding the service in a service file: run the file as `__main__` with its directory first on
`sys.path` (so `from api_schema import *` beside it works, and an original EasyMLServe file's
`if __name__ == "__main__": EasyMLServer(...).deploy()` runs), then take the service `deploy()` registered,
else the class named in `file.py:ClassName`, else the one service class the file defines, and build it.
"""

from __future__ import annotations

import os
import runpy
import sys
from typing import Any, Dict, List, Optional, Tuple

from . import registry
from .original import EasyMLService
from .service import Service


class ServiceNotFound(LookupError):
    """The file names no service, or several and no choice among them."""


def parse_reference(reference: str) -> Tuple[str, Optional[str]]:
    """`path/service.py:ClassName` -> (absolute path, "ClassName"); `path/service.py` -> (path, None)."""
    path, sep, name = reference.rpartition(":")
    if sep and name.isidentifier() and path:
        return os.path.abspath(path), name
    return os.path.abspath(reference), None


def load_service(reference: str) -> Any:
    """The service instance of the file `reference`, its model loaded."""
    path, class_name = parse_reference(reference)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"the service file {path} does not exist")
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    registry.enter_worker_mode()
    namespace = runpy.run_path(path, run_name="__main__")
    instance = registry.registered()
    if instance is not None and (class_name is None or type(instance).__name__ == class_name):
        _load_model(instance)
        return instance
    cls = _pick_class(namespace, class_name, path)
    instance = cls()
    _load_model(instance)
    return instance


def _load_model(instance: Any) -> None:
    # EasyMLService.__init__ has loaded the model already; a new-style Service loads it here.
    if isinstance(instance, Service):
        instance.load_model()


def _is_service_class(value: Any) -> bool:
    return (
        isinstance(value, type)
        and issubclass(value, (Service, EasyMLService))
        and value not in (Service, EasyMLService)
    )


def _pick_class(namespace: Dict[str, Any], class_name: Optional[str], path: str) -> type:
    file = os.path.basename(path)
    if class_name is not None:
        cls = namespace.get(class_name)
        if not isinstance(cls, type):
            raise ServiceNotFound(f"{file} defines no class {class_name}")
        return cls
    defined: List[type] = [v for v in namespace.values() if _is_service_class(v) and v.__module__ == "__main__"]
    if len(defined) == 1:
        return defined[0]
    if not defined:
        imported = sorted(k for k, v in namespace.items() if _is_service_class(v))
        hint = f" (it imports {', '.join(imported)}: name one as {file}:{imported[0]})" if imported else ""
        raise ServiceNotFound(f"{file} defines no subclass of easymlserve.Service or EasyMLService{hint}")
    names = sorted(cls.__name__ for cls in defined)
    raise ServiceNotFound(
        f"{file} defines several services ({', '.join(names)}): name one as {file}:{names[0]}, "
        "or deploy one with EasyMLServer(service).deploy()"
    )
