#!/usr/bin/python3
"""A zmq-gateway worker in Python: only a REP socket, the zguide hello-world way.

    WORKER_BIND=tcp://127.0.0.1:5557 /usr/bin/python3 examples/python/echo_worker.py
    WORKER_CONNECT=tcp://127.0.0.1:5560 /usr/bin/python3 examples/python/echo_worker.py

It reads exactly one frame and replies with exactly one frame (plain mode). The
reply is JSON: {"worker": "python", "echo": <request text>}.
"""
import json
import os

import zmq

context = zmq.Context()
socket = context.socket(zmq.REP)
socket.linger = 0
if os.environ.get("WORKER_BIND"):
    socket.bind(os.environ["WORKER_BIND"])
    endpoint = socket.getsockopt(zmq.LAST_ENDPOINT).decode()
else:
    endpoint = os.environ.get("WORKER_CONNECT", "tcp://127.0.0.1:5560")
    socket.connect(endpoint)
print(f"ready {endpoint}", flush=True)

# SIGTERM keeps the OS default and ends the process at once. A Python handler would run
# only between bytecodes: one that lands as recv() is about to block waits for the next
# request, and a stopped gateway sends none.
try:
    while True:
        message = socket.recv()  # one frame: the HTTP request body, byte for byte
        socket.send(json.dumps({"worker": "python", "echo": message.decode("utf-8", "replace")}).encode())
finally:
    # Close the socket before the context: left to garbage collection at exit, the
    # context's term() can run first and wait forever for the socket still open.
    context.destroy(linger=0)
