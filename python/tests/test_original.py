"""The original EasyMLServe's classes: `EasyMLService` loads in `__init__`, `EasyMLServer.deploy()`
registers inside a worker and otherwise runs the Rust server with the original's host, port and keys."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from easymlserve import DeployError, EasyMLServer, EasyMLService, registry


class Loading(EasyMLService):
    def __init__(self, device: str = "cpu", **kwargs: Any) -> None:
        self.device = device
        self.loaded_on: list = []  # type: ignore[type-arg]
        super().__init__(**kwargs)

    def load_model(self) -> None:
        self.loaded_on.append(self.device)

    def process(self, request: Dict[str, Any]) -> Dict[str, Any]:
        return request


@pytest.fixture
def fake_binary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    binary = tmp_path / "easymlserve"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.setenv("EASYMLSERVE_BIN", str(binary))
    monkeypatch.delenv("EASYMLSERVE_API_KEYS", raising=False)
    return binary


@pytest.fixture
def worker_mode(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(registry, "_worker_mode", True)
    monkeypatch.setattr(registry, "_registered", None)
    yield


def test_init_loads_the_model_once_after_the_subclass_attributes() -> None:
    service = Loading(device="cuda")
    assert service.loaded_on == ["cuda"]


def test_route_args_are_ignored_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="route_args"):
        Loading(route_args={"response_model": None})


def test_deploy_in_a_worker_registers_and_returns(worker_mode: None) -> None:
    service = Loading()
    EasyMLServer(service, api_keys=["k"]).deploy()
    assert registry.registered() is service


def test_command_uses_uvicorns_defaults(fake_binary: Path) -> None:
    argv, env = EasyMLServer(Loading()).command()
    assert argv == [
        str(fake_binary), "serve", "--python", str(Path(sys.modules["__main__"].__file__ or "").resolve()),
        "--host", "127.0.0.1", "--port", "8000", "--python-bin", sys.executable,
    ]
    assert "EASYMLSERVE_API_KEYS" not in env


def test_command_maps_uvicorn_args_and_passes_keys_in_the_environment(fake_binary: Path) -> None:
    server = EasyMLServer(
        Loading(), api_keys=["alpha", "beta"],
        uvicorn_args={"host": "0.0.0.0", "port": "8100", "workers": 2, "log_level": "warning", "reload": True},
    )
    with pytest.warns(UserWarning, match=r"\['reload'\]"):
        argv, env = server.command()
    assert argv[argv.index("--host") + 1] == "0.0.0.0"
    assert argv[argv.index("--port") + 1] == "8100"
    assert argv[argv.index("--workers") + 1] == "2"
    assert env["EASYMLSERVE_API_KEYS"] == "alpha,beta"
    assert env["EASYMLSERVE_LOG"] == "warn"
    assert not any("alpha" in arg for arg in argv)


def test_unknown_constructor_arguments_are_ignored_with_a_warning() -> None:
    with pytest.warns(UserWarning, match=r"\['title'\]"):
        EasyMLServer(Loading(), title="My API")


def test_keys_that_cannot_be_passed_on(fake_binary: Path) -> None:
    with pytest.raises(DeployError, match="comma"):
        EasyMLServer(Loading(), api_keys=["a,b"]).command()
    with pytest.raises(DeployError, match="empty list"):
        EasyMLServer(Loading(), api_keys=[]).command()


def test_no_binary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("EASYMLSERVE_BIN", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DeployError, match="no `easymlserve` on PATH"):
        EasyMLServer(Loading()).deploy()
