import assert from "node:assert/strict";
import { test } from "node:test";
import { propagation, trace, type TextMapPropagator } from "@opentelemetry/api";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { createTracingObserver, tracingActive } from "../../src/telemetry/tracing.js";

/** A propagator that carries nothing: all the check looks at is that one is registered. */
const propagator: TextMapPropagator = { inject: () => undefined, extract: (context) => context, fields: () => ["traceparent"] };

const attempt = { service: "echo", workerId: "w1", endpoint: "tcp://127.0.0.1:1", attempt: 1, queuedMs: 0, mode: "meta" as const, context: undefined };
const plainAttempt = { ...attempt, mode: "plain" as const };

test("spans are made only once an SDK or a propagator is registered, and no longer after", () => {
  assert.equal(tracingActive(), false, "nothing registered");
  assert.equal(createTracingObserver().attemptStarted(attempt), undefined);

  const provider = new NodeTracerProvider();
  provider.register();
  try {
    assert.equal(tracingActive(), true, "an SDK registered after the observer was made is seen");
    const handle = createTracingObserver().attemptStarted(attempt);
    assert.match(handle?.traceparent ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    handle?.end("replied");
  } finally {
    trace.disable();
    propagation.disable();
  }
  assert.equal(tracingActive(), false, "disabled again");

  propagation.setGlobalPropagator(propagator);
  try {
    assert.equal(tracingActive(), true, "a propagator alone passes a caller's context through");
  } finally {
    propagation.disable();
  }
});

test("a plain worker's attempt gets no traceparent, while its recorded span still gets a handle", () => {
  new NodeTracerProvider().register();
  try {
    const handle = createTracingObserver().attemptStarted(plainAttempt);
    assert.ok(handle, "a recorded span still gets its handle, to be ended");
    assert.equal(handle.traceparent, undefined, "a plain worker never sees a traceparent");
    handle.end("replied");
  } finally {
    trace.disable();
    propagation.disable();
  }
});
