#!/usr/bin/python3
"""A meta-mode zmq-gateway worker in Python that continues the gateway's trace.

    WORKER_BIND=tcp://127.0.0.1:5558 /usr/bin/python3 examples/python/traced_worker.py

The service must be in meta mode: each request is [body, meta] and meta (JSON) carries
`traceparent` (and `tracestate`) of the gateway's CLIENT span for this attempt:

    traceparent = "00-<trace id: 32 hex>-<parent span id: 16 hex>-<flags: 2 hex>"

The worker's own span is a child of that span: same trace id, a new span id, and the
CLIENT span's id as parent. Calls the worker makes further down pass on
`00-<trace id>-<own span id>-<flags>` as their traceparent.

With OpenTelemetry for Python installed (opentelemetry-api and -sdk, from PyPI; Debian
does not package them), the span is a real one: run the worker under
`opentelemetry-instrument` (opentelemetry-distro) with OTEL_EXPORTER_OTLP_ENDPOINT set,
and it is exported next to the gateway's. Without it, the worker still continues the
trace by hand: it writes the ids as one JSON line per request on stdout, so a log search
by trace id finds it. Either way the reply body reports the ids it used.
"""
import json
import os
import re
import secrets

import zmq

try:  # optional: a real span when OpenTelemetry for Python is installed
    from opentelemetry import trace
    from opentelemetry.propagate import extract
except ImportError:
    trace = None

TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def handle(body, meta, span_id):
    """The worker's own work: here, echo the body with the trace ids it ran under."""
    match = TRACEPARENT.match(meta.get("traceparent", ""))
    trace_id, parent_id, flags = (match.group(2), match.group(3), match.group(4)) if match else (None, None, "01")
    record = {
        "event": "request",
        "request_id": meta.get("requestId"),
        "trace_id": trace_id,
        "parent_span_id": parent_id,
        "span_id": span_id,
        # what a downstream call from here would send as its traceparent
        "traceparent": f"00-{trace_id}-{span_id}-{flags}" if trace_id else None,
    }
    print(json.dumps(record), flush=True)
    reply = dict(record, worker="python", echo=body.decode("utf-8", "replace"))
    return json.dumps(reply).encode(), {"status": 200, "headers": {"content-type": "application/json"}}


def serve(socket):
    while True:
        frames = socket.recv_multipart()  # meta mode: [body, meta]
        body = frames[0]
        meta = json.loads(frames[1]) if len(frames) > 1 else {}
        carrier = {key: meta[key] for key in ("traceparent", "tracestate") if key in meta}
        if trace is not None:
            tracer = trace.get_tracer("traced_worker")
            with tracer.start_as_current_span("zmq.worker", context=extract(carrier), kind=trace.SpanKind.SERVER) as span:
                context = span.get_span_context()
                span_id = format(context.span_id, "016x") if span.is_recording() else secrets.token_hex(8)
                reply_body, reply_meta = handle(body, meta, span_id)
        else:
            reply_body, reply_meta = handle(body, meta, secrets.token_hex(8))
        socket.send_multipart([reply_body, json.dumps(reply_meta).encode()])


def main():
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
        serve(socket)
    finally:
        # Close the socket before the context: left to garbage collection at exit, the
        # context's term() can run first and wait forever for the socket still open.
        context.destroy(linger=0)


if __name__ == "__main__":
    main()
