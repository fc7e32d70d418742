"""The worker process: `python -m easymlserve.worker`, started by the Rust server, one per model copy.

It connects to the server's Unix socket, says hello, loads the service named by `EASYMLSERVE_SERVICE`,
reports ready (or why setup failed), then answers requests one at a time. The thread that reads a
request runs it (no hand-over between threads on a request's path), and while the model runs a watcher
thread keeps reading the socket: that is how a `cancel` reaches a running model and how the worker
notices at once that the server is gone (`Worker`). The protocol is docs/worker-protocol.md; stdout and
stderr stay the model's own.
"""

from __future__ import annotations

import collections
import io
import os
import select
import socket
import sys
import threading
import time
import traceback
from typing import Any, Dict, NoReturn, Optional, Tuple

from . import protocol
from .context import Context
from .errors import failure_from_exception
from .framing import FrameError, FrameReader, FrameTooLarge, FrameWriter, SocketFrameReader, encode_frame
from .loader import load_service
from .runner import Runner, batch_message, outcome_message
from .spec import describe

SOCKET_ENV = "EASYMLSERVE_WORKER_SOCKET"
WORKER_ID_ENV = "EASYMLSERVE_WORKER_ID"
SERVICE_ENV = "EASYMLSERVE_SERVICE"

EXIT_OK = 0
EXIT_SETUP_FAILED = 1
EXIT_USAGE = 2
EXIT_PROTOCOL_ERROR = 3

Job = Tuple[str, Any, Dict[str, Any], Context]
"""A request waiting for the model thread: (message type, id, message, context)."""


def _log(text: str) -> None:
    worker = os.environ.get(WORKER_ID_ENV, "?")
    print(f"easymlserve worker {worker}: {text}", file=sys.stderr, flush=True)


def watch_parent() -> None:
    """Leaves as soon as the server process is gone, even while the model thread is stuck in native code.

    The end of the socket stops the worker too, but only once the main thread reads it. Linux's
    `PR_SET_PDEATHSIG` is not used: it fires when the *thread* that started the worker exits, and the
    server starts workers from short-lived threads (a restart after a crash), so healthy workers would die.
    A process whose parent died is re-parented, so a change of `getppid()` is the signal.
    """
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.2)
            if os.getppid() != parent:
                _log("the server process is gone; exiting")
                _exit_now(EXIT_OK)

    threading.Thread(target=watch, name="easymlserve-parent-watch", daemon=True).start()


def _exit_now(code: int) -> NoReturn:
    """Leaves at once, without waiting for the model thread (which may be deep in native code)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _last_line(err: BaseException) -> str:
    lines = traceback.format_exception_only(type(err), err)
    return lines[-1].strip() if lines else type(err).__name__


class Worker:
    """The request loop of a worker whose service is loaded.

    Two threads take turns reading the socket. While the model is idle, the model thread (the one that
    calls `serve`) reads it itself, so a request that arrives runs at once on the thread that read it: no
    hand-over between threads on the request's path. While the model runs, the watcher thread reads it,
    so that a `cancel` reaches the running model and the end of the socket is noticed at once; a request
    or `shutdown` it reads then waits in `_handed` for the model thread. `_read_lock` is held by whichever
    thread is reading, and the watcher reads only when `select` says a frame has arrived (the reader is
    unbuffered), so neither thread ever waits inside a read that the other one should have made.
    """

    def __init__(self, reader: SocketFrameReader, writer: FrameWriter, runner: Runner) -> None:
        self._reader = reader
        self._writer = writer
        self._runner = runner
        self._read_lock = threading.Lock()
        self._handed: "collections.deque[Optional[Job]]" = collections.deque()
        self._state = threading.Condition()
        self._running = False
        # A byte written here takes the watcher out of its `select` when the model has finished.
        self._poke_read, self._poke_write = os.pipe()
        os.set_blocking(self._poke_write, False)
        self._active: Dict[Any, Context] = {}
        self._active_lock = threading.Lock()

    def serve(self) -> int:
        """Answers the server's messages until `shutdown` (returns 0 after `bye`); exits the process at EOF
        or at a protocol error."""
        threading.Thread(target=self._watch, name="easymlserve-watch", daemon=True).start()
        while True:
            with self._read_lock:
                job = self._handed.popleft() if self._handed else self._next_job()
            if job is None:
                self._send(protocol.bye())
                return EXIT_OK
            if job[0] != "handled":
                self._run(job)

    def _next_job(self) -> Optional[Job]:
        """Reads one message: a request or `shutdown` is returned (None for `shutdown`), anything else is
        handled here and comes back as a "handled" job."""
        message = self._read()
        kind = message["type"]
        if kind in ("predict", "predict_batch"):
            return self._submit(kind, message)
        if kind == "shutdown":
            return None
        if kind == "cancel":
            with self._active_lock:
                ctx = self._active.get(message["id"])
            if ctx is not None:
                ctx.cancel()
        elif kind == "ping":
            self._send(protocol.pong())
        else:
            _log(f"ignoring a {kind!r} message after start-up")
        return ("handled", None, message, _IDLE)

    def _read(self) -> Dict[str, Any]:
        try:
            message = self._reader.read()
            if message is None:
                _exit_now(EXIT_OK)
            return protocol.checked(message)
        except (FrameError, OSError) as err:
            _log(f"protocol error, exiting: {err}")
            _exit_now(EXIT_PROTOCOL_ERROR)

    def _submit(self, kind: str, message: Dict[str, Any]) -> Job:
        request_id = message["id"]
        deadline_ms = message.get("deadline_ms")
        deadline = None if deadline_ms is None else time.monotonic() + float(deadline_ms) / 1000.0
        ctx = Context(str(request_id), deadline, self._progress_sink(request_id))
        with self._active_lock:
            self._active[request_id] = ctx
        return (kind, request_id, message, ctx)

    def _watch(self) -> None:
        """The watcher thread: reads the socket while the model runs."""
        while True:
            with self._state:
                while not self._running:
                    self._state.wait()
            ready, _, _ = select.select([self._reader.fileno(), self._poke_read], [], [])
            if self._poke_read in ready:
                os.read(self._poke_read, 64)
            if self._reader.fileno() not in ready:
                continue
            with self._read_lock:
                # The model may have finished (and read that frame itself) since the select.
                if not self._running or not self._reader.readable():
                    continue
                job = self._next_job()
                if job is None or job[0] != "handled":
                    self._handed.append(job)

    def _set_running(self, running: bool) -> None:
        with self._state:
            self._running = running
            self._state.notify()
        if not running:
            try:
                os.write(self._poke_write, b"x")
            except BlockingIOError:
                pass  # bytes are waiting already: the watcher wakes anyway

    def _progress_sink(self, request_id: Any) -> Any:
        def sink(fraction: Optional[float], text: str) -> None:
            try:
                self._writer.send(protocol.progress(request_id, fraction, text))
            except OSError:
                pass  # the server is gone; the reading thread sees the end of the socket and exits

        return sink

    def _run(self, job: Job) -> None:
        kind, request_id, message, ctx = job
        self._set_running(True)
        try:
            if ctx.cancelled:
                answer: Dict[str, Any] = {"type": "cancelled", "id": request_id}
            elif kind == "predict":
                answer = outcome_message(request_id, self._runner.run(message["input"], ctx))
            else:
                answer = batch_message(request_id, self._runner.run_batch(message["inputs"], ctx))
        except BaseException as err:  # a bug of the SDK itself: fail the request, keep the worker
            answer = {"type": "failed", "id": request_id, **failure_from_exception(err).to_wire()}
        ctx.close()
        with self._active_lock:
            self._active.pop(request_id, None)
        self._send_answer(request_id, answer)
        self._set_running(False)

    def _send_answer(self, request_id: Any, answer: Dict[str, Any]) -> None:
        try:
            self._writer.send(answer)
        except FrameTooLarge as err:
            self._send(
                {"type": "failed", "id": request_id, "status": 500, "error_type": "model_error",
                 "message": f"the answer is too large to send: {err}", "field": None, "traceback": None}
            )
        except OSError:
            _exit_now(EXIT_OK)

    def _send(self, message: Dict[str, Any]) -> None:
        try:
            self._writer.send(message)
        except OSError:
            _exit_now(EXIT_OK)


_IDLE = Context("", None, None)
"""The context of a "handled" job, which runs nothing."""


def _environment() -> Tuple[str, str]:
    missing = [name for name in (SOCKET_ENV, SERVICE_ENV) if not os.environ.get(name)]
    if missing:
        raise KeyError(
            f"{' and '.join(missing)} not set: the easymlserve server starts this worker "
            "(run `easymlserve serve --python service.py`)"
        )
    return os.environ[SOCKET_ENV], os.environ[SERVICE_ENV]


def _wait_for_init(reader: FrameReader, writer: FrameWriter) -> None:
    while True:
        message = reader.read()
        if message is None:
            _exit_now(EXIT_OK)
        kind = protocol.checked(message)["type"]
        if kind == "init":
            return
        if kind == "ping":
            writer.send(protocol.pong())
        elif kind == "shutdown":
            writer.send(protocol.bye())
            _exit_now(EXIT_OK)
        else:
            raise FrameError(f"a {kind!r} message before 'init'")


def main() -> int:
    """Runs the worker; returns its exit code."""
    try:
        socket_path, reference = _environment()
    except KeyError as err:
        print(f"easymlserve.worker: {err.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    watch_parent()
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(socket_path)
    except OSError as err:
        _log(f"cannot connect to {socket_path}: {err}")
        return EXIT_USAGE
    reader = SocketFrameReader(sock)
    writer = FrameWriter(sock)
    try:
        writer.send(protocol.hello())
        _wait_for_init(reader, writer)
    except (FrameError, OSError) as err:
        _log(f"protocol error before start-up, exiting: {err}")
        return EXIT_PROTOCOL_ERROR
    try:
        service = load_service(reference)
        spec = describe(service)
        ready = encode_frame(protocol.ready(spec))
    except BaseException as err:
        whole = "".join(traceback.format_exception(type(err), err, err.__traceback__))
        print(whole, file=sys.stderr, end="", flush=True)
        try:
            writer.send(protocol.setup_failed(_last_line(err), whole))
        except OSError:
            pass
        return EXIT_SETUP_FAILED
    try:
        writer.send_frame(ready)
    except OSError as err:
        _log(f"the server went away during start-up: {err}")
        return EXIT_PROTOCOL_ERROR
    return Worker(reader, writer, Runner(service, spec)).serve()


if __name__ == "__main__":
    # os._exit, not sys.exit: a thread the model started must not keep a worker alive that was told to go.
    _exit_now(main())
