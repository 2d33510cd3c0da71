import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Reply } from "zeromq";
import { parseConfig } from "../../src/config.js";
import { CorrelationIds } from "../../src/protocol/frames.js";
import { Service } from "../../src/services/service.js";

/** A REP echo worker in this process, on a port the OS chose; answers `count` requests. */
async function startEcho(count: number): Promise<{ endpoint: string; done: Promise<void>; close(): void }> {
  const socket = new Reply({ linger: 0 });
  await socket.bind("tcp://127.0.0.1:0");
  const done = (async () => {
    for (let served = 0; served < count; served++) await socket.send(await socket.receive());
  })();
  return { endpoint: socket.lastEndpoint ?? "", done, close: () => socket.close() };
}

describe("the pool's deliveries", () => {
  it("delivers replies in the order they came, and wakes an idle waiter only after the last caller has its answer", async () => {
    const burst = 8;
    const worker = await startEcho(burst);
    const config = parseConfig({ services: { echo: { workers: [worker.endpoint], window: burst } } });
    const serviceConfig = config.services["echo"];
    assert.ok(serviceConfig);
    const link = { lingerMs: 0, heartbeatIntervalMs: 1_000, heartbeatTimeoutMs: 3_000, reconnectIntervalMs: 100, reconnectMaxIntervalMs: 1_000, maxMessageBytes: 1 << 20 };
    const service = new Service("echo", serviceConfig, new CorrelationIds(), link);
    try {
      await service.start();
      const deadline = Date.now() + 5_000;
      while (service.pool.connectedWorkers === 0) {
        assert.ok(Date.now() < deadline, "the worker never connected");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const heard: string[] = [];
      // pool.submit itself: a caller's `then` is one hop from the delivery, as the waiter's is.
      const calls = Array.from({ length: burst }, (_, index) =>
        service.pool
          .submit({ deadline: performance.now() + 5_000, idempotent: false, encode: () => [Buffer.from(`request ${index}`)] })
          .then((result) => heard.push(result.payload.map(String).join())),
      );
      const idle = service.pool.whenIdle().then(() => heard.push("idle"));
      await Promise.all([...calls, idle]);
      assert.deepEqual(heard, [...Array.from({ length: burst }, (_, index) => `request ${index}`), "idle"]);
      assert.equal(service.pool.counters.replied, burst);
      await worker.done;
    } finally {
      service.pool.close();
      worker.close();
    }
  });
});
