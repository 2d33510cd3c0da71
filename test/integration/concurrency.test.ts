import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Agent, request } from "undici";
import { test } from "node:test";
import { startGateway } from "../helpers/gateway.js";
import { spawnNodeWorker } from "../helpers/workers.js";

test("1,000 concurrent requests over 3 worker processes each get their own reply", async () => {
  const workers = await Promise.all([1, 2, 3].map(() => spawnNodeWorker("echo-worker")));
  const gw = await startGateway({ services: { echo: { workers: workers.map((w) => w.endpoint) } } });
  const agent = new Agent({ connections: 256, pipelining: 1 });
  try {
    await gw.waitForWorkers("echo", 3);
    const tokens = Array.from({ length: 1_000 }, () => randomUUID());
    const results = await Promise.all(
      tokens.map(async (token) => {
        const response = await request(`${gw.url}/v1/echo`, { method: "POST", body: JSON.stringify({ token }), dispatcher: agent });
        return { token, status: response.statusCode, body: await response.body.text() };
      }),
    );
    for (const { token, status, body } of results) {
      assert.equal(status, 200);
      assert.equal((JSON.parse(body) as { token: string }).token, token);
    }
    const service = (await gw.services()).services[0]!;
    assert.equal(service.counters.replied, 1_000);
    assert.equal(service.counters.sent, 1_000);
    assert.equal(service.pending, 0);
    assert.equal(service.queued, 0);
    const served = service.workers.map((w) => w.served);
    assert.equal(served.reduce((a, b) => a + b, 0), 1_000);
    assert.ok(served.every((count) => count > 0), `every worker served some: ${served.join(",")}`);
  } finally {
    await agent.close();
    await gw.stop();
    for (const worker of workers) worker.kill("SIGTERM");
    await Promise.all(workers.map((w) => w.exited));
  }
});
