import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { echo, spawnPythonWorker, startWorker, type InProcessWorker, type WorkerProcess } from "../helpers/workers.js";
import { waitUntil } from "../helpers/wait.js";

describe("HTTP calls to REP workers", () => {
  let gw: TestGateway;
  let python: WorkerProcess;
  const workers: InProcessWorker[] = [];
  let plain: InProcessWorker;
  let metaStatus: InProcessWorker;
  let metaEcho: InProcessWorker;
  let twoFrames: InProcessWorker;
  let badMeta: InProcessWorker;
  let slow: InProcessWorker;

  before(async () => {
    python = await spawnPythonWorker("echo_worker");
    plain = await startWorker(echo);
    metaStatus = await startWorker(([body, meta]) => {
      const request = JSON.parse(meta?.toString() ?? "{}") as Record<string, unknown>;
      return [JSON.stringify({ got: body?.toString(), request }), JSON.stringify({ status: 201, headers: { "x-made-by": "meta-worker", location: "/things/1", connection: "close", "content-length": "999" } })];
    });
    metaEcho = await startWorker(echo);
    twoFrames = await startWorker(() => ["one", "two"]);
    badMeta = await startWorker(() => ["body", JSON.stringify({ status: "teapot" })]);
    slow = await startWorker(async (frames) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return frames;
    });
    workers.push(plain, metaStatus, metaEcho, twoFrames, badMeta, slow);
    gw = await startGateway({
      services: {
        py: { workers: [python.endpoint], contentType: "application/json" },
        plain: { workers: [plain.endpoint], maxBodyBytes: 1024 },
        meta: { workers: [{ endpoint: metaStatus.endpoint, meta: true }], forwardHeaders: ["x-tenant"] },
        metaecho: { mode: "meta", workers: [metaEcho.endpoint] },
        twoframes: { workers: [twoFrames.endpoint] },
        badmeta: { mode: "meta", workers: [badMeta.endpoint] },
        slow: { workers: [slow.endpoint], timeoutMs: 100 },
        empty: {},
      },
    });
    for (const name of ["py", "plain", "meta", "metaecho", "twoframes", "badmeta", "slow"]) await gw.waitForWorkers(name, 1);
  });

  after(async () => {
    await gw.stop();
    for (const worker of workers) worker.close();
    await python.stop();
  });

  test("a Python worker that reads a single frame (zguide style) answers a POST", async () => {
    const response = await fetch(`${gw.url}/v1/py`, { method: "POST", body: '{"hello":"world"}' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.deepEqual(await response.json(), { worker: "python", echo: '{"hello":"world"}' });
  });

  test("a plain worker gets the body byte for byte and a GET sends an empty frame", async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    const response = await fetch(`${gw.url}/v1/plain/any/path?x=1`, { method: "PUT", body: bytes });
    assert.equal(response.status, 200);
    assert.deepEqual(Buffer.from(await response.arrayBuffer()), bytes);
    assert.equal(response.headers.get("content-type"), "application/octet-stream");
    const last = plain.received.at(-1);
    assert.equal(last?.length, 1);
    const get = await fetch(`${gw.url}/v1/plain`);
    assert.equal(get.status, 200);
    assert.equal((await get.arrayBuffer()).byteLength, 0);
    assert.deepEqual(plain.received.at(-1), [Buffer.alloc(0)]);
  });

  test("a meta worker receives method, path, query, allowed headers and deadline, and its reply meta sets status and headers", async () => {
    const response = await fetch(`${gw.url}/v1/meta/orders/42?expand=items`, {
      method: "POST",
      body: "payload",
      headers: { "content-type": "text/plain", authorization: "Bearer secret", cookie: "a=b", "x-tenant": "acme", "x-other": "no", "request-timeout": "2s" },
    });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("x-made-by"), "meta-worker");
    assert.equal(response.headers.get("location"), "/things/1");
    assert.notEqual(response.headers.get("content-length"), "999");
    const body = (await response.json()) as { got: string; request: Record<string, unknown> };
    assert.equal(body.got, "payload");
    const meta = body.request;
    assert.equal(meta.v, 1);
    assert.equal(meta.kind, "zmq-gateway.request");
    assert.equal(meta.method, "POST");
    assert.equal(meta.path, "/orders/42");
    assert.equal(meta.query, "expand=items");
    assert.deepEqual(meta.headers, { "content-type": "text/plain", accept: "*/*", "x-tenant": "acme" });
    assert.equal(meta.requestId, response.headers.get("x-request-id"));
    assert.ok(typeof meta.deadlineMs === "number" && meta.deadlineMs > 1000 && meta.deadlineMs <= 2000, `deadlineMs ${String(meta.deadlineMs)}`);
  });

  test("a meta worker that echoes every frame produces a 200 with the body, not the meta", async () => {
    const response = await fetch(`${gw.url}/v1/metaecho/x`, { method: "POST", body: "just the body", headers: { accept: "text/plain" } });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "just the body");
  });

  test("a plain worker that replies with two frames gets a 502 that says so", async () => {
    const response = await fetch(`${gw.url}/v1/twoframes`, { method: "POST", body: "x" });
    assert.equal(response.status, 502);
    assert.equal(response.headers.get("content-type"), "application/problem+json");
    const problem = (await response.json()) as { code: string; detail: string };
    assert.equal(problem.code, "BAD_REPLY");
    assert.match(problem.detail, /exactly one frame.*2/);
  });

  test("an invalid reply meta gets a 502", async () => {
    const response = await fetch(`${gw.url}/v1/badmeta`, { method: "POST", body: "x" });
    assert.equal(response.status, 502);
    const problem = (await response.json()) as { code: string; detail: string };
    assert.equal(problem.code, "BAD_REPLY");
    assert.match(problem.detail, /status/);
  });

  test("an unknown service gets a 404 problem", async () => {
    const response = await fetch(`${gw.url}/v1/nosuch`, { method: "POST", body: "x" });
    assert.equal(response.status, 404);
    assert.equal(response.headers.get("content-type"), "application/problem+json");
    const problem = (await response.json()) as Record<string, unknown>;
    assert.equal(problem.code, "UNKNOWN_SERVICE");
    assert.equal(problem.status, 404);
    assert.equal(problem.type, "urn:zmq-gateway:problem:unknown-service");
    assert.equal(problem.requestId, response.headers.get("x-request-id"));
  });

  test("a service with no connected worker answers 503 with Retry-After at once", async () => {
    const started = performance.now();
    const response = await fetch(`${gw.url}/v1/empty`, { method: "POST", body: "x" });
    const elapsed = performance.now() - started;
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "1");
    assert.equal(((await response.json()) as { code: string }).code, "NO_WORKER");
    assert.ok(elapsed < 1_000, `took ${elapsed} ms; the service timeout is 30 s`);
  });

  test("a worker slower than the deadline gets a 504, and its late reply is dropped and counted", async () => {
    const before = (await gw.services()).services.find((s) => s.name === "slow")!.counters;
    const response = await fetch(`${gw.url}/v1/slow`, { method: "POST", body: "late" });
    assert.equal(response.status, 504);
    assert.equal(((await response.json()) as { code: string }).code, "TIMEOUT");
    await waitUntil(async () => (await gw.services()).services.find((s) => s.name === "slow")!.counters.lateReplies! > before.lateReplies!, "the late reply to be counted");
    const after = (await gw.services()).services.find((s) => s.name === "slow")!;
    assert.equal(after.counters.timedOutInFlight, before.timedOutInFlight! + 1);
    assert.equal(after.pending, 0);
    // The worker is idle again and serves the next request within a longer deadline.
    const next = await fetch(`${gw.url}/v1/slow`, { method: "POST", body: "ok", headers: { "request-timeout": "2s" } });
    assert.equal(next.status, 200);
    assert.equal(await next.text(), "ok");
  });

  test("Request-Timeout lowers the deadline and a malformed one gets a 400", async () => {
    const response = await fetch(`${gw.url}/v1/slow`, { method: "POST", body: "x", headers: { "request-timeout": "soon" } });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { detail: string }).detail, /Request-Timeout/);
  });

  test("a body over the limit gets a 413 for Content-Length and for chunked bodies, and reaches no worker", async () => {
    const seen = plain.received.length;
    const sized = await fetch(`${gw.url}/v1/plain`, { method: "POST", body: "x".repeat(1025) });
    assert.equal(sized.status, 413);
    assert.equal(((await sized.json()) as { code: string }).code, "BODY_TOO_LARGE");
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i++) controller.enqueue(new Uint8Array(400));
        controller.close();
      },
    });
    const chunked = await fetch(`${gw.url}/v1/plain`, { method: "POST", body: chunks, duplex: "half" });
    assert.equal(chunked.status, 413);
    assert.equal(chunked.headers.get("connection"), "close", "the unread rest of the body ends the connection");
    const atLimit = await fetch(`${gw.url}/v1/plain`, { method: "POST", body: "y".repeat(1024) });
    assert.equal(atLimit.status, 200);
    assert.equal(plain.received.length, seen + 1, "only the request within the limit reached the worker");
  });

  test("a well-formed X-Request-Id is kept and a malformed one replaced", async () => {
    const kept = await fetch(`${gw.url}/v1/plain`, { headers: { "x-request-id": "client-id_123" } });
    assert.equal(kept.headers.get("x-request-id"), "client-id_123");
    const replaced = await fetch(`${gw.url}/v1/plain`, { headers: { "x-request-id": "bad id with spaces" } });
    assert.match(replaced.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  });

  test("every request is written to the access log with method, path, service, status, duration and request id", async () => {
    const response = await fetch(`${gw.url}/v1/plain/logged`, { headers: { "x-request-id": "log-check-1" } });
    assert.equal(response.status, 200);
    await waitUntil(() => gw.logs.some((line) => line.request_id === "log-check-1"), "the access log line");
    const line = gw.logs.find((entry) => entry.request_id === "log-check-1")!;
    assert.equal(line.event, "access");
    assert.equal(line.method, "GET");
    assert.equal(line.path, "/v1/plain/logged");
    assert.equal(line.service, "plain");
    assert.equal(line.status, 200);
    assert.equal(typeof line.durationMs, "number");
  });
});
