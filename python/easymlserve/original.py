"""`EasyMLService` and `EasyMLServer`, so that service files written for the original EasyMLServe (KIT,
2022) run unchanged: `from easymlserve import EasyMLService, EasyMLServer`.

Inside a worker, `EasyMLServer(service).deploy()` hands the service to the worker and returns. Run as
`python service.py`, it replaces the Python process with the Rust server (`easymlserve serve --python
service.py`), which starts the workers; host and port come from `uvicorn_args` as they did for uvicorn,
the API keys go to the server in its environment, never on its command line.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from . import registry

BIN_ENV = "EASYMLSERVE_BIN"
"""The environment variable naming the `easymlserve` binary that `deploy()` runs (else PATH is searched)."""

DEFAULT_HOST = "127.0.0.1"
"""uvicorn's default host, and so the original's."""
DEFAULT_PORT = 8000
"""uvicorn's default port, and so the original's."""

# uvicorn's log levels as the server's EASYMLSERVE_LOG filter.
_LOG_LEVELS = {"critical": "error", "error": "error", "warning": "warn", "info": "info", "debug": "debug", "trace": "trace"}


class DeployError(RuntimeError):
    """`deploy()` cannot start the server (no binary, an API key it cannot pass on)."""


class EasyMLService:
    """Base class of services written for the original EasyMLServe: `__init__` calls `load_model()`, so a
    subclass sets its own attributes before calling `super().__init__()`; `process(self, request)` takes
    the request model (annotated) and returns a dict or a model."""

    def __init__(self, route_args: Optional[Dict[str, Any]] = None) -> None:
        """`route_args` were FastAPI route options in the original; easymlserve has no FastAPI routes, so
        they are ignored (with a warning)."""
        if route_args:
            warnings.warn(
                f"EasyMLService: route_args {sorted(route_args)} are FastAPI route options and are ignored",
                stacklevel=2,
            )
        self.route_args: Dict[str, Any] = dict(route_args or {})
        self.load_model()

    def load_model(self) -> None:
        """Loads the model; called by `__init__`."""


class EasyMLServer:
    """Serves one service: `EasyMLServer(service, api_keys=[...], uvicorn_args={...}).deploy()`."""

    def __init__(
        self,
        service: Any,
        api_keys: Optional[Sequence[str]] = None,
        uvicorn_args: Optional[Mapping[str, Any]] = None,
        **ignored: Any,
    ) -> None:
        """`api_keys`: the keys a caller may send (`x-api-key` or `Authorization: Bearer`); `uvicorn_args`:
        `host` and `port` (default 127.0.0.1:8000, as uvicorn's), `workers` and `log_level` are honoured,
        the others are ignored with a warning, as are unknown keyword arguments."""
        if ignored:
            warnings.warn(f"EasyMLServer: arguments {sorted(ignored)} are not supported and are ignored", stacklevel=2)
        self.service = service
        self.api_keys: Optional[List[str]] = None if api_keys is None else [str(k) for k in api_keys]
        self.uvicorn_args: Dict[str, Any] = dict(uvicorn_args or {})
        if registry.in_worker_mode():
            registry.register(service)

    def deploy(self) -> None:
        """Inside a worker: registers the service and returns. Otherwise: replaces this process with the
        easymlserve server serving the file that is running (it does not return)."""
        if registry.in_worker_mode():
            registry.register(self.service)
            return
        argv, env = self.command()
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(argv[0], argv, env)

    def command(self) -> Tuple[List[str], Dict[str, str]]:
        """The command line and environment that `deploy()` runs the server with."""
        binary = os.environ.get(BIN_ENV) or shutil.which("easymlserve")
        if not binary:
            raise DeployError(
                "deploy() starts the easymlserve server, but there is no `easymlserve` on PATH and "
                f"{BIN_ENV} is not set: install the easymlserve command, or set {BIN_ENV} to its path"
            )
        args = dict(self.uvicorn_args)
        host = str(args.pop("host", DEFAULT_HOST))
        port = str(int(args.pop("port", DEFAULT_PORT)))
        argv = [binary, "serve", "--python", _service_file(self.service), "--host", host, "--port", port]
        workers = args.pop("workers", None)
        if workers is not None:
            argv += ["--workers", str(int(workers))]
        env = dict(os.environ)
        log_level = args.pop("log_level", None)
        if isinstance(log_level, str) and log_level.lower() in _LOG_LEVELS and "EASYMLSERVE_LOG" not in env:
            env["EASYMLSERVE_LOG"] = _LOG_LEVELS[log_level.lower()]
        if args:
            warnings.warn(f"EasyMLServer: uvicorn_args {sorted(args)} have no easymlserve equivalent and are ignored", stacklevel=3)
        argv += ["--python-bin", sys.executable]
        if self.api_keys is not None:
            if not self.api_keys:
                raise DeployError("api_keys is an empty list, which would let no caller in: pass None for no keys")
            if any("," in key for key in self.api_keys):
                raise DeployError("an API key holds a comma, which EASYMLSERVE_API_KEYS cannot carry")
            env["EASYMLSERVE_API_KEYS"] = ",".join(self.api_keys)
        return argv, env


def _service_file(service: Any) -> str:
    """The file to serve: the script being run (it builds the service again inside each worker), or else
    the file defining the service's class."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None) or getattr(sys.modules.get(type(service).__module__), "__file__", None)
    if not path:
        raise DeployError("deploy() cannot tell which file defines the service: run it as `python service.py`")
    return os.path.abspath(str(path))
