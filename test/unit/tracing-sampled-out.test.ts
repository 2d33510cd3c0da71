/**
 * Its own file: the gateway's tracer is an API proxy that keeps the first SDK tracer it
 * finds, so the sampler under test must be the first one registered in the process.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { propagation, trace } from "@opentelemetry/api";
import { AlwaysOffSampler, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { createTracingObserver } from "../../src/telemetry/tracing.js";

const attempt = { service: "echo", workerId: "w1", endpoint: "tcp://127.0.0.1:1", attempt: 1, queuedMs: 0, context: undefined };

test("a sampled-out attempt carries trace context to a meta worker only", () => {
  new NodeTracerProvider({ sampler: new AlwaysOffSampler() }).register();
  try {
    const observer = createTracingObserver();
    assert.equal(observer.attemptStarted({ ...attempt, mode: "plain" }), undefined, "plain: nothing to carry, nothing to end");
    const meta = observer.attemptStarted({ ...attempt, mode: "meta" });
    assert.match(meta?.traceparent ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/, "meta: the not-sampled decision travels on");
    meta?.end("replied");
  } finally {
    trace.disable();
    propagation.disable();
  }
});
