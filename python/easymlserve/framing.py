"""Frames of the worker protocol: a 4-byte big-endian length, then that many bytes of UTF-8 JSON holding
one object with a `type`. Frames over 64 MiB are refused both ways.

Reading and writing are separate objects because they happen on different threads: progress and answers
are written while another thread may be reading, one write at a time behind a lock. The worker reads its
socket unbuffered (`SocketFrameReader`), so that "the socket is readable" means "a frame has arrived": two
threads take turns reading it, and a buffer would hide a frame from the one that waits with `select`.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import threading
from typing import Any, BinaryIO, Dict, Optional

from .encoding import dumps

MAX_FRAME_BYTES = 64 * 1024 * 1024
"""The largest frame body either side may send."""

_HEADER = struct.Struct(">I")


class FrameError(Exception):
    """A frame that breaks the protocol: cut short, over the limit, not JSON, not an object with a type."""


class FrameTooLarge(FrameError):
    """A message whose encoding is over `MAX_FRAME_BYTES`."""


def encode_frame(message: Dict[str, Any]) -> bytes:
    """The frame of one message (header and body); raises FrameTooLarge."""
    body = dumps(message)
    if len(body) > MAX_FRAME_BYTES:
        raise FrameTooLarge(f"a {message.get('type')!r} message of {len(body)} bytes is over the {MAX_FRAME_BYTES}-byte frame limit")
    return _HEADER.pack(len(body)) + body


def decode_body(body: bytes) -> Dict[str, Any]:
    """The message in a frame body; raises FrameError."""
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise FrameError(f"a frame of {len(body)} bytes is not UTF-8 JSON: {err}") from err
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise FrameError("a frame does not hold a JSON object with a string \"type\"")
    return message


class FrameReader:
    """Reads messages from a byte stream (a file opened for binary reading)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def _read_exactly(self, size: int) -> bytes:
        chunks = []
        left = size
        while left > 0:
            chunk = self._stream.read(left)
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def read(self) -> Optional[Dict[str, Any]]:
        """The next message, or None at end of stream between frames; raises FrameError (an end of stream
        inside a frame included)."""
        header = self._read_exactly(_HEADER.size)
        if not header:
            return None
        if len(header) < _HEADER.size:
            raise FrameError("the stream ended inside a frame header")
        (size,) = _HEADER.unpack(header)
        if size > MAX_FRAME_BYTES:
            raise FrameError(f"a frame announces {size} bytes, over the {MAX_FRAME_BYTES}-byte limit")
        body = self._read_exactly(size)
        if len(body) < size:
            raise FrameError(f"the stream ended inside a frame ({len(body)} of {size} bytes)")
        return decode_body(body)


class SocketFrameReader(FrameReader):
    """Reads messages straight from a socket, with no buffer: bytes not yet read stay in the socket, so
    `readable()` (and a `select` on the socket) tells whether another frame is waiting."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def _read_exactly(self, size: int) -> bytes:
        buffer = bytearray(size)
        view = memoryview(buffer)
        got = 0
        while got < size:
            count = self._sock.recv_into(view[got:], size - got)
            if count == 0:
                break
            got += count
        return bytes(view[:got])

    def fileno(self) -> int:
        """The socket's descriptor, for `select`."""
        return self._sock.fileno()

    def readable(self) -> bool:
        """Whether a read would find data (or the end of the stream) without waiting."""
        ready, _, _ = select.select([self._sock], [], [], 0)
        return bool(ready)


class FrameWriter:
    """Writes messages to a socket, whole frames at a time, from any thread."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()

    def send(self, message: Dict[str, Any]) -> None:
        """Sends one message; raises FrameTooLarge (nothing sent) or OSError (the peer is gone)."""
        self.send_frame(encode_frame(message))

    def send_frame(self, frame: bytes) -> None:
        """Sends a frame made by `encode_frame`; raises OSError (the peer is gone)."""
        with self._lock:
            self._sock.sendall(frame)
