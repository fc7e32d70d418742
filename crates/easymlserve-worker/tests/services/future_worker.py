"""A worker from the future: says hello with protocol version 99, then waits for the server to hang up."""

import json
import os
import socket
import struct

sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(os.environ["EASYMLSERVE_WORKER_SOCKET"])
hello = json.dumps({"type": "hello", "proto": 99, "pid": os.getpid(), "python": "9.9", "sdk_version": "9.0.0"})
sock.sendall(struct.pack(">I", len(hello)) + hello.encode())
while sock.recv(4096):
    pass
