import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Reply } from "zeromq";
import { parseConfig } from "../../src/config.js";
import { CorrelationIds } from "../../src/protocol/frames.js";
import { GatewayError } from "../../src/errors.js";
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

const LINK = { lingerMs: 0, heartbeatIntervalMs: 1_000, heartbeatTimeoutMs: 3_000, reconnectIntervalMs: 100, reconnectMaxIntervalMs: 1_000, maxMessageBytes: 1 << 20 };

/** A service named echo on `endpoint`, not started. */
function echoService(endpoint: string, settings: { window: number; queueLimit?: number }): Service {
  const serviceConfig = parseConfig({ services: { echo: { workers: [endpoint], ...settings } } }).services["echo"];
  assert.ok(serviceConfig);
  return new Service("echo", serviceConfig, new CorrelationIds(), LINK);
}

/** Polls until the service has a connected worker (5 s at most). */
async function untilConnected(service: Service): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (service.pool.connectedWorkers === 0) {
    assert.ok(Date.now() < deadline, "the worker never connected");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("the pool's deliveries", () => {
  it("delivers replies in the order they came, and wakes an idle waiter only after the last caller has its answer", async () => {
    const burst = 8;
    const worker = await startEcho(burst);
    const service = echoService(worker.endpoint, { window: burst });
    try {
      await service.start();
      await untilConnected(service);
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

  it("enqueue answers each job exactly once, through one of its two callbacks, never inside the call", async () => {
    const worker = await startEcho(2);
    const service = echoService(worker.endpoint, { window: 1, queueLimit: 1 });
    const answers: string[][] = [[], [], [], []];
    const settled: Promise<void>[] = [];
    const enqueue = (index: number): void => {
      let answer!: () => void;
      settled.push(new Promise((resolve) => (answer = resolve)));
      service.pool.enqueue(
        { deadline: performance.now() + 5_000, idempotent: false, encode: () => [Buffer.from(`job ${index}`)] },
        (result) => {
          answers[index]!.push(result.payload.map(String).join());
          answer();
        },
        (error) => {
          answers[index]!.push(error instanceof GatewayError ? error.code : String(error));
          answer();
        },
      );
    };
    try {
      // No worker connected yet: refused, and the refusal comes after the call returned.
      enqueue(0);
      assert.deepEqual(answers[0], [], "a refusal must not call back inside enqueue");
      await service.start();
      await untilConnected(service);
      // One in flight (window 1), one queued (queueLimit 1), the third refused QUEUE_FULL.
      enqueue(1);
      enqueue(2);
      enqueue(3);
      assert.deepEqual(answers.slice(1), [[], [], []], "no callback inside enqueue");
      await Promise.all(settled);
      // A second answer would land in the same turn as the first: let that turn end.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(answers, [["NO_WORKER"], ["job 1"], ["job 2"], ["QUEUE_FULL"]]);
      const counters = service.pool.counters;
      assert.equal(counters.submitted, 4);
      assert.equal(counters.rejectedNoWorker + counters.rejectedQueueFull + counters.replied, 4);
      await worker.done;
    } finally {
      service.pool.close();
      worker.close();
    }
  });
});
