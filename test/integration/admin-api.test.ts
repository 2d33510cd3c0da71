import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { waitUntil } from "../helpers/wait.js";
import { echo, spawnNodeWorker, startWorker } from "../helpers/workers.js";

describe("admin API and the two ways workers join", () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startGateway({ services: { echo: { bind: "tcp://127.0.0.1:0" }, other: {} } });
  });
  after(() => gw.stop());

  const register = (service: string, body: unknown) =>
    fetch(`${gw.adminUrl}/admin/services/${service}/workers`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });

  test("a connect-out worker registered at run time serves calls, and after removal gets none", async () => {
    const worker = await startWorker((frames) => [`out:${frames[0]?.toString() ?? ""}`]);
    try {
      const created = await register("other", { endpoint: worker.endpoint });
      assert.equal(created.status, 201);
      const { id } = (await created.json()) as { id: string };
      assert.match(id, /^w\d+$/);
      assert.equal(created.headers.get("location"), `/admin/services/other/workers/${id}`);
      await gw.waitForWorkers("other", 1);

      const listed = (await gw.services()).services.find((s) => s.name === "other")!;
      const entry = listed.workers.find((w) => w.id === id)!;
      assert.equal(entry.endpoint, worker.endpoint);
      assert.equal(entry.joined, "admin");
      assert.equal(entry.connected, true);

      const response = await fetch(`${gw.url}/v1/other`, { method: "POST", body: "hi" });
      assert.equal(await response.text(), "out:hi");

      const removed = await fetch(`${gw.adminUrl}/admin/services/other/workers/${id}`, { method: "DELETE" });
      assert.equal(removed.status, 204);
      const after = await fetch(`${gw.url}/v1/other`, { method: "POST", body: "hi" });
      assert.equal(after.status, 503);
      assert.equal(worker.received.length, 1);
      const again = await fetch(`${gw.adminUrl}/admin/services/other/workers/${id}`, { method: "DELETE" });
      assert.equal(again.status, 404);
    } finally {
      worker.close();
    }
  });

  test("a worker removed while it holds a request still answers that request", async () => {
    let release: (() => void) | undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const worker = await startWorker(async (frames) => {
      await gate;
      return frames;
    });
    try {
      const { id } = (await (await register("other", { endpoint: worker.endpoint })).json()) as { id: string };
      await gw.waitForWorkers("other", 1);
      const call = fetch(`${gw.url}/v1/other`, { method: "POST", body: "held" });
      await waitUntil(() => worker.received.length === 1, "the worker to hold the request");
      assert.equal((await fetch(`${gw.adminUrl}/admin/services/other/workers/${id}`, { method: "DELETE" })).status, 204);
      release?.();
      const response = await call;
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "held");
      await waitUntil(async () => !(await gw.services()).services.find((s) => s.name === "other")!.workers.some((w) => w.id === id), "the removed worker to be gone");
    } finally {
      worker.close();
    }
  });

  test("registration refuses an unknown service with 404 and a bad endpoint with 400", async () => {
    const unknown = await register("nosuch", { endpoint: "tcp://127.0.0.1:5555" });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get("content-type"), "application/problem+json");
    for (const body of [{ endpoint: "http://example.com" }, { endpoint: "tcp://127.0.0.1" }, { endpoint: "tcp://127.0.0.1:99999" }, {}, { endpoint: "tcp://127.0.0.1:5555", extra: 1 }]) {
      const response = await register("other", body);
      assert.equal(response.status, 400, JSON.stringify(body));
      const problem = (await response.json()) as { code: string; detail: string };
      assert.equal(problem.code, "INVALID_ENDPOINT");
      assert.ok(problem.detail.length > 0);
    }
    const notJson = await fetch(`${gw.adminUrl}/admin/services/other/workers`, { method: "POST", body: "{nope" });
    assert.equal(notJson.status, 400);
  });

  test("a meta worker can be registered into a plain service and the pool mixes both modes", async () => {
    const metaWorker = await startWorker(([body]) => [body ?? "", JSON.stringify({ status: 202 })]);
    try {
      const created = await register("other", { endpoint: metaWorker.endpoint, meta: true });
      assert.equal(created.status, 201);
      assert.equal(((await created.json()) as { mode: string }).mode, "meta");
      await gw.waitForWorkers("other", 1);
      const response = await fetch(`${gw.url}/v1/other`, { method: "POST", body: "m" });
      assert.equal(response.status, 202);
      assert.equal(metaWorker.received.at(-1)?.length, 2);
    } finally {
      metaWorker.close();
    }
  });

  test("a connect-in worker joins by connecting to the service's bound endpoint", async () => {
    const bound = gw.addresses.binds.echo!;
    assert.match(bound, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    const inProcess = await startWorker(echo, { connect: bound });
    const separate = await spawnNodeWorker("echo-worker", { WORKER_CONNECT: bound });
    try {
      await waitUntil(async () => (await gw.services()).services.find((s) => s.name === "echo")!.workers[0]!.peers === 2, "two connect-in peers");
      const bodies = Array.from({ length: 20 }, (_, i) => `in-${i}`);
      const replies = await Promise.all(bodies.map(async (body) => (await fetch(`${gw.url}/v1/echo`, { method: "POST", body })).text()));
      assert.deepEqual(replies, bodies);
      assert.ok(inProcess.received.length > 0 && inProcess.received.length < 20, "both connect-in peers served");
      separate.kill("SIGKILL");
      await separate.exited;
      await waitUntil(async () => (await gw.services()).services.find((s) => s.name === "echo")!.workers[0]!.peers === 1, "the killed peer to leave");
      assert.equal(await (await fetch(`${gw.url}/v1/echo`, { method: "POST", body: "still" })).text(), "still");
      const endpointId = (await gw.services()).services.find((s) => s.name === "echo")!.workers[0]!.id;
      const refused = await fetch(`${gw.adminUrl}/admin/services/echo/workers/${endpointId}`, { method: "DELETE" });
      assert.equal(refused.status, 400, "the connect-in endpoint belongs to the config");
      assert.match(((await refused.json()) as { detail: string }).detail, /connect-in/);
    } finally {
      inProcess.close();
      separate.kill("SIGKILL");
    }
  });
});
