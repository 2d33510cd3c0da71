import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { context, createContextKey, propagation, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { SynchronousContextManager } from "../../src/telemetry/context-manager.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { startTracing } from "../../src/telemetry/sdk.js";

const KEY = createContextKey("test key");
const outer = ROOT_CONTEXT.setValue(KEY, "outer");
const inner = ROOT_CONTEXT.setValue(KEY, "inner");

describe("SynchronousContextManager", () => {
  test("a context is active for the synchronous extent of with(), nested, and restored after a throw", () => {
    const manager = new SynchronousContextManager();
    assert.equal(manager.active(), ROOT_CONTEXT);
    const seen = manager.with(outer, (a: number, b: number) => {
      const during = manager.active().getValue(KEY);
      const nested = manager.with(inner, () => manager.active().getValue(KEY));
      assert.throws(() =>
        manager.with(inner, () => {
          throw new Error("boom");
        }),
      );
      return [during, nested, manager.active().getValue(KEY), a + b];
    }, undefined, 1, 2);
    assert.deepEqual(seen, ["outer", "inner", "outer", 3]);
    assert.equal(manager.active(), ROOT_CONTEXT);
  });

  test("the context does not follow an await: callers pass it explicitly", async () => {
    const manager = new SynchronousContextManager();
    const later = await manager.with(outer, async () => {
      const before = manager.active().getValue(KEY);
      await Promise.resolve();
      return [before, manager.active().getValue(KEY)];
    });
    assert.deepEqual(later, ["outer", undefined]);
  });

  test("bind() runs a function in its context with its receiver and arguments; other values pass through", () => {
    const manager = new SynchronousContextManager();
    const receiver = { name: "receiver" };
    const bound = manager.bind(outer, function (this: { name: string }, suffix: string) {
      return `${this.name}:${String(manager.active().getValue(KEY))}:${suffix}`;
    });
    assert.equal(bound.call(receiver, "x"), "receiver:outer:x");
    assert.equal(manager.active(), ROOT_CONTEXT);
    const object = { not: "a function" };
    assert.equal(manager.bind(outer, object), object);
  });

  test("disable() falls back to the root context", () => {
    const manager = new SynchronousContextManager();
    manager.with(outer, () => {
      manager.disable();
      assert.equal(manager.active(), ROOT_CONTEXT);
    });
  });
});

describe("the gateway's SDK", () => {
  after(() => {
    trace.disable();
    context.disable();
    propagation.disable();
  });

  test("registers the synchronous manager, not AsyncLocalStorage (whose context would survive the await)", async () => {
    const tracing = startTracing({ protocol: "http/json", logger: createLogger("silent"), serviceVersion: "test" });
    try {
      const span = trace.getTracer("test").startSpan("probe");
      const active = trace.setSpan(ROOT_CONTEXT, span);
      const seen = await context.with(active, async () => {
        const during = trace.getSpan(context.active());
        await Promise.resolve();
        return [during, trace.getSpan(context.active())];
      });
      assert.equal(seen[0], span, "inside with(): the span is active");
      assert.equal(seen[1], undefined, "after an await: not (an AsyncLocalStorage manager would still have it)");
      // Not ended: nothing is exported, so shutdown does not wait on an absent receiver.
    } finally {
      await tracing.shutdown(1_000);
    }
  });
});
