"""Frames: 4-byte big-endian length + UTF-8 JSON, at most 64 MiB, both ways."""

from __future__ import annotations

import io
import socket
import struct
import threading
from typing import Any, Dict, List

import pytest

from easymlserve.framing import (
    MAX_FRAME_BYTES,
    FrameError,
    FrameReader,
    FrameTooLarge,
    FrameWriter,
    decode_body,
    encode_frame,
)


def reader_of(data: bytes) -> FrameReader:
    return FrameReader(io.BytesIO(data))


def test_encoding_is_a_big_endian_length_and_compact_utf8_json() -> None:
    frame = encode_frame({"type": "progress", "message": "äh"})
    body = '{"type":"progress","message":"äh"}'.encode("utf-8")
    assert frame == struct.pack(">I", len(body)) + body
    assert frame[:4] == b"\x00\x00\x00\x23"


def test_round_trip_over_a_socket_pair() -> None:
    left, right = socket.socketpair()
    with left, right:
        writer = FrameWriter(left)
        messages: List[Dict[str, Any]] = [{"type": "done", "id": f"r{i}", "output": {"x": [i] * i}} for i in range(50)]
        threads = [threading.Thread(target=writer.send, args=(m,)) for m in messages]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        left.shutdown(socket.SHUT_WR)
        reader = FrameReader(right.makefile("rb"))
        received: List[Dict[str, Any]] = []
        while (message := reader.read()) is not None:
            received.append(message)
    # Frames from several threads never interleave: every one arrives whole.
    assert sorted(received, key=lambda m: m["id"]) == sorted(messages, key=lambda m: m["id"])


def test_end_of_stream_between_frames_is_none() -> None:
    reader = reader_of(encode_frame({"type": "ping"}))
    assert reader.read() == {"type": "ping"}
    assert reader.read() is None


def test_end_of_stream_inside_a_frame_is_an_error() -> None:
    frame = encode_frame({"type": "ping"})
    with pytest.raises(FrameError, match="header"):
        reader_of(frame[:2]).read()
    with pytest.raises(FrameError, match="inside a frame"):
        reader_of(frame[:-1]).read()


def test_a_frame_over_the_limit_is_refused_before_its_body_is_read() -> None:
    stream = io.BytesIO(struct.pack(">I", MAX_FRAME_BYTES + 1) + b"{}")
    with pytest.raises(FrameError, match="over the 67108864-byte limit"):
        FrameReader(stream).read()
    assert stream.tell() == 4


def test_a_frame_at_the_limit_is_read() -> None:
    message = {"type": "predict", "input": "x" * (MAX_FRAME_BYTES - len('{"type":"predict","input":""}'))}
    frame = encode_frame(message)
    assert len(frame) == 4 + MAX_FRAME_BYTES
    assert reader_of(frame).read() == message


def test_a_message_over_the_limit_is_not_sent() -> None:
    with pytest.raises(FrameTooLarge, match="'done' message"):
        encode_frame({"type": "done", "output": "x" * MAX_FRAME_BYTES})


@pytest.mark.parametrize(
    "body", [b"", b"not json", b"\xff\xfe", b"[1, 2]", b'{"no": "type"}', b'{"type": 3}'], ids=repr
)
def test_bodies_that_are_not_messages(body: bytes) -> None:
    with pytest.raises(FrameError):
        decode_body(body)
    with pytest.raises(FrameError):
        reader_of(struct.pack(">I", len(body)) + body).read()


def test_nan_is_never_written() -> None:
    with pytest.raises(ValueError):
        encode_frame({"type": "done", "output": float("nan")})
