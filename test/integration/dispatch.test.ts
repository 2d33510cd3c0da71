import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Agent, request } from "undici";
import { startGateway } from "../helpers/gateway.js";
import { assertAtRest } from "../helpers/invariants.js";
import { waitUntil } from "../helpers/wait.js";
import { spawnDelayWorker, startWorker } from "../helpers/workers.js";

const zmq = { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 1_000, reconnectIntervalMs: 50, reconnectMaxIntervalMs: 200 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("worker-aware dispatch", () => {
  test("consecutive timeouts eject a worker for a while, and its requests go to the others", async () => {
    const slow = await startWorker(async (frames) => {
      await sleep(150);
      return [Buffer.concat([Buffer.from("slow:"), frames[0]!])];
    });
    const gw = await startGateway({ zmq, services: { svc: { workers: [slow.endpoint], timeoutMs: 50, outlier: { consecutiveTimeouts: 2, baseEjectionMs: 60_000 } } } });
    const fast = await startWorker((frames) => [Buffer.concat([Buffer.from("fast:"), frames[0]!])]);
    const fast2 = await startWorker((frames) => [Buffer.concat([Buffer.from("fast:"), frames[0]!])]);
    try {
      await gw.waitForWorkers("svc", 1);
      for (let i = 0; i < 2; i++) {
        assert.equal((await fetch(`${gw.url}/v1/svc`, { method: "POST", body: `t${i}` })).status, 504);
        // The worker stays suspect (gets nothing new) until its late reply frees it.
        await waitUntil(async () => (await gw.services()).services[0]!.counters.lateReplies === i + 1, "the late reply");
      }
      const state = (await gw.services()).services[0]!;
      assert.equal(state.workers[0]!.state, "ejected");
      assert.equal(state.counters.ejections, 1);
      // The only worker is ejected: half or more of the pool, so calls fail fast.
      const failFast = await fetch(`${gw.url}/v1/svc`, { method: "POST", body: "x" });
      assert.equal(failFast.status, 503);
      assert.equal(((await failFast.json()) as { code: string }).code, "UNHEALTHY");
      assert.equal(failFast.headers.get("retry-after"), "1");

      // With two healthy workers beside it, one ejected worker is under half the pool: requests queue.
      for (const endpoint of [fast.endpoint, fast2.endpoint]) {
        await fetch(`${gw.adminUrl}/admin/services/svc/workers`, { method: "POST", body: JSON.stringify({ endpoint }) });
      }
      await gw.waitForWorkers("svc", 3);
      const replies = await Promise.all(Array.from({ length: 5 }, async (_, i) => (await fetch(`${gw.url}/v1/svc`, { method: "POST", body: `after${i}` })).text()));
      assert.deepEqual(replies, Array.from({ length: 5 }, (_, i) => `fast:after${i}`), "the ejected worker gets nothing");
      await assertAtRest(() => gw.services(), "svc");
    } finally {
      await gw.stop();
      slow.close();
      fast.close();
      fast2.close();
    }
  });

  test("with retry.onTimeout an idempotent request whose try times out is answered by another worker; a POST is not retried", async () => {
    const slow = await startWorker(async (frames) => {
      await sleep(400);
      return [Buffer.concat([Buffer.from("slow:"), frames[0]!])];
    });
    const fast = await startWorker((frames) => [Buffer.concat([Buffer.from("fast:"), frames[0]!])]);
    const gw = await startGateway({
      zmq,
      services: { svc: { workers: [slow.endpoint, fast.endpoint], timeoutMs: 2_000, retry: { onTimeout: true, perTryTimeoutMs: 100, maxAttempts: 2 } } },
    });
    try {
      await gw.waitForWorkers("svc", 2);
      // Two at once: one of them lands on the slow worker.
      const [a, b] = await Promise.all(["a", "b"].map((id) => fetch(`${gw.url}/v1/svc?${id}`, { headers: { "x-request-id": `get-${id}` } })));
      assert.equal(a!.status, 200);
      assert.equal(b!.status, 200);
      assert.deepEqual([await a!.text(), await b!.text()], ["fast:", "fast:"]);
      const afterGets = (await gw.services()).services[0]!.counters;
      assert.equal(afterGets.retries, 1);
      const retry = gw.logs.find((line) => line.event === "retry" && line.reason === "per-try timeout");
      assert.ok(retry, "the retry is logged");
      assert.ok(retry.request_id === "get-a" || retry.request_id === "get-b", `the retry line carries its own request id (${String(retry.request_id)})`);

      await waitUntil(async () => (await gw.services()).services[0]!.workers.every((w) => w.state === "idle"), "the slow worker's late reply");
      const posts = await Promise.all(["c", "d"].map((id) => fetch(`${gw.url}/v1/svc`, { method: "POST", body: id })));
      assert.deepEqual(posts.map((r) => r.status).sort(), [200, 504], "the POST on the slow worker times out and is not retried");
      await assertAtRest(() => gw.services(), "svc");
    } finally {
      await gw.stop();
      slow.close();
      fast.close();
    }
  });

  test("an idempotent request whose worker dies is retried elsewhere, unless the retry budget is spent", async () => {
    const held = await spawnDelayWorker({ WORKER_NAME: "doomed", DELAY_MS: "10000" });
    const spare = await startWorker((frames) => [Buffer.concat([Buffer.from("spare:"), frames[0]!])]);
    const gw = await startGateway({ zmq, services: { svc: { workers: [held.endpoint], retry: { budgetPercent: 0, minRetryConcurrency: 0 } }, retried: { workers: [] } } });
    try {
      await gw.waitForWorkers("svc", 1);
      const call = fetch(`${gw.url}/v1/svc`, { method: "PUT", body: "x" });
      await waitUntil(async () => (await gw.services()).services[0]!.inFlight === 1, "the request to be held");
      await fetch(`${gw.adminUrl}/admin/services/svc/workers`, { method: "POST", body: JSON.stringify({ endpoint: spare.endpoint }) });
      await gw.waitForWorkers("svc", 2);
      held.kill("SIGKILL");
      const response = await call;
      assert.equal(response.status, 502, "no budget: not retried");
      assert.equal(((await response.json()) as { code: string }).code, "WORKER_LOST");
      const counters = (await assertAtRest(() => gw.services(), "svc")).counters;
      assert.equal(counters.retriesDenied, 1);
      assert.equal(counters.lost, 1);
    } finally {
      await gw.stop();
      held.kill("SIGKILL");
      await held.exited;
      spare.close();
    }
  });

  test("5,000 concurrent requests on 4 workers are all answered exactly once", async () => {
    const workers = await Promise.all(Array.from({ length: 4 }, (_, i) => spawnDelayWorker({ WORKER_NAME: `w${i}` })));
    const gw = await startGateway({ zmq, services: { svc: { workers: workers.map((w) => w.endpoint), timeoutMs: 60_000 } } });
    const agent = new Agent({ connections: 5_000, pipelining: 1, connectTimeout: 30_000, headersTimeout: 60_000, bodyTimeout: 60_000 });
    try {
      await gw.waitForWorkers("svc", 4);
      const results = await Promise.all(
        Array.from({ length: 5_000 }, async (_, i) => {
          const response = await request(`${gw.url}/v1/svc`, { method: "POST", body: `r${i}`, dispatcher: agent });
          return { i, status: response.statusCode, body: await response.body.text() };
        }),
      );
      const wrong = results.filter((r) => r.status !== 200 || !r.body.endsWith(`:r${r.i}`));
      assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of 5,000 went wrong`);
      assert.ok(!results.some((r) => /EBUSY/i.test(r.body)));
      const at = await assertAtRest(() => gw.services(), "svc");
      assert.equal(at.counters.replied, 5_000);
      assert.equal(at.counters.sendFailures, 0);
      assert.equal(at.pending, 0);
    } finally {
      await agent.close();
      await gw.stop();
      for (const worker of workers) worker.kill("SIGKILL");
      await Promise.all(workers.map((w) => w.exited));
    }
  });
});
