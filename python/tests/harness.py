"""The server's side of the worker protocol, for the end-to-end tests: a Unix socket listener, a real
`python -m easymlserve.worker` subprocess in its own process group, and frames written and read here with
struct and json (not with the SDK's framing, so that the wire format itself is checked)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

PYTHON_DIR = Path(__file__).resolve().parent.parent
SERVICES = Path(__file__).resolve().parent / "services"
TIMEOUT = 30.0

Message = Dict[str, Any]


class WorkerHarness:
    """One worker subprocess and the accepted connection to it."""

    def __init__(self, service: str, env: Optional[Dict[str, str]] = None) -> None:
        self.directory = tempfile.mkdtemp(prefix="ems-test-")  # short: a socket path has ~100 bytes
        self.socket_path = os.path.join(self.directory, "worker.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.socket_path)
        self.listener.listen(1)
        self.listener.settimeout(TIMEOUT)
        self.stdout_path = os.path.join(self.directory, "stdout")
        self.stderr_path = os.path.join(self.directory, "stderr")
        child_env = dict(os.environ)
        child_env.update(
            {
                "EASYMLSERVE_WORKER_SOCKET": self.socket_path,
                "EASYMLSERVE_WORKER_ID": "7",
                "EASYMLSERVE_SERVICE": service,
                "PYTHONPATH": os.pathsep.join([str(PYTHON_DIR), child_env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            }
        )
        child_env.update(env or {})
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "easymlserve.worker"],
                env=child_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
                cwd=self.directory,
            )
        self.conn: Optional[socket.socket] = None
        self._buffer = b""

    def accept(self) -> None:
        conn, _ = self.listener.accept()
        conn.settimeout(TIMEOUT)
        self.conn = conn

    def send(self, message: Message) -> None:
        body = json.dumps(message).encode("utf-8")
        assert self.conn is not None
        self.conn.sendall(struct.pack(">I", len(body)) + body)

    def _read_exactly(self, size: int) -> bytes:
        assert self.conn is not None
        while len(self._buffer) < size:
            chunk = self.conn.recv(65536)
            if not chunk:
                raise EOFError(f"the worker closed the socket (stderr: {self.stderr()!r})")
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def recv(self) -> Message:
        (size,) = struct.unpack(">I", self._read_exactly(4))
        message = json.loads(self._read_exactly(size).decode("utf-8"))
        assert isinstance(message, dict), message
        return message

    def recv_until(self, kind: str) -> List[Message]:
        """Every message up to and including the first of type `kind`."""
        messages = []
        while True:
            message = self.recv()
            messages.append(message)
            if message["type"] == kind:
                return messages

    def at_eof(self) -> bool:
        assert self.conn is not None
        return not self._buffer and self.conn.recv(1) == b""

    def start(self) -> Message:
        """Accepts the worker, checks its hello, sends init and returns what it answers (ready or
        setup_failed)."""
        self.accept()
        hello = self.recv()
        assert hello["type"] == "hello", hello
        assert hello["proto"] == 1
        assert hello["pid"] == self.process.pid
        assert hello["python"] == ".".join(str(v) for v in sys.version_info[:3])
        assert hello["sdk_version"] == "0.1.0"
        self.send({"type": "init", "worker_id": 7})
        return self.recv()

    def wait(self, timeout: float = TIMEOUT) -> int:
        return self.process.wait(timeout=timeout)

    def stdout(self) -> str:
        return Path(self.stdout_path).read_text(errors="replace")

    def stderr(self) -> str:
        return Path(self.stderr_path).read_text(errors="replace")

    def group_alive(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def close(self) -> None:
        """Kills the worker's process group if anything in it is still running, and cleans up."""
        if self.process.poll() is None or self.group_alive():
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=TIMEOUT)
        deadline = time.monotonic() + 5
        while self.group_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        for sock in (self.conn, self.listener):
            if sock is not None:
                sock.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def service(name: str) -> str:
    """The path of a test service file (`name` may end in `:ClassName`)."""
    path, sep, cls = name.partition(":")
    return str(SERVICES / path) + sep + cls
