/**
 * The console's routes over real HTTP against a real gateway with real REP workers: the
 * page and its assets, /openapi.yaml, the stats endpoint and the "try it" proxy, with and
 * without an admin token, and with tracing on. (The page itself: console-browser.test.ts.)
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { context, propagation, trace } from "@opentelemetry/api";
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-node";
import { parse as parseYaml } from "yaml";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { repoRoot } from "../helpers/paths.js";
import { echo, startWorker, type InProcessWorker } from "../helpers/workers.js";

interface Stats {
  atMs: number;
  windowSeconds: number | null;
  services: {
    name: string;
    requests: number;
    errors: number;
    windowRequests: number;
    p50Ms: number | null;
    p99Ms: number | null;
  }[];
}

interface TryResult {
  status: number;
  headers: [string, string][];
  body: string;
  bodyEncoding: string;
  bodyBytes: number;
  truncated: boolean;
  durationMs: number;
  requestId: string | null;
  traceId: string | null;
  traceIdSource: string | null;
}

const json = { "content-type": "application/json" };

function tryCall(
  gw: TestGateway,
  input: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${gw.adminUrl}/admin/console/try`, {
    method: "POST",
    headers: { ...json, ...headers },
    body: JSON.stringify(input),
  });
}

describe("the console's pages, assets and API document", () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ services: { echo: {} } });
  });
  after(() => gw.stop());

  test("the console page, its script and its styles are served by the gateway with a strict content security policy", async () => {
    const page = await fetch(`${gw.adminUrl}/admin/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(page.headers.get("content-security-policy") ?? "", /script-src 'self';/);
    assert.equal(page.headers.get("x-content-type-options"), "nosniff");
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/admin\/assets\/console.js">/);
    assert.doesNotMatch(html, /https?:\/\//, "the page loads nothing from elsewhere");
    for (const [asset, type] of [
      ["console.js", /^text\/javascript/],
      ["console.css", /^text\/css/],
      ["swagger-ui-bundle.js", /^text\/javascript/],
      ["swagger-ui.css", /^text\/css/],
    ] as const) {
      const response = await fetch(`${gw.adminUrl}/admin/assets/${asset}`);
      assert.equal(response.status, 200, asset);
      assert.match(response.headers.get("content-type") ?? "", type, asset);
      await response.arrayBuffer();
    }
    const redirect = await fetch(`${gw.adminUrl}/admin`, { redirect: "manual" });
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.get("location"), "/admin/");
  });

  test("the API reference page and GET /openapi.yaml serve the document the repository holds", async () => {
    const docs = await fetch(`${gw.adminUrl}/admin/docs`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger-ui-bundle\.js/);
    const response = await fetch(`${gw.adminUrl}/openapi.yaml`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^application\/yaml/);
    const text = await response.text();
    assert.equal(text, readFileSync(`${repoRoot}openapi.yaml`, "utf8"));
    assert.match((parseYaml(text) as { openapi: string }).openapi, /^3\.1\./);
  });

  test("an unchanged asset is answered 304 to its ETag, and an unknown one is a 404 problem", async () => {
    const first = await fetch(`${gw.adminUrl}/admin/assets/console.css`);
    await first.arrayBuffer();
    const etag = first.headers.get("etag");
    assert.ok(etag);
    const again = await fetch(`${gw.adminUrl}/admin/assets/console.css`, {
      headers: { "if-none-match": etag },
    });
    assert.equal(again.status, 304);
    for (const name of ["nope.js", "..%2Fpackage.json", "console.ts", "index.html"]) {
      const response = await fetch(`${gw.adminUrl}/admin/assets/${name}`);
      assert.equal(response.status, 404, name);
      assert.equal(response.headers.get("content-type"), "application/problem+json", name);
      assert.doesNotMatch(
        await response.text(),
        /\/work|node_modules|dist\//,
        "a 404 names no file on disk",
      );
    }
  });
});

describe("console stats and try it", () => {
  let gw: TestGateway;
  let worker: InProcessWorker;

  before(async () => {
    worker = await startWorker(echo);
    gw = await startGateway({ services: { echo: { workers: [worker.endpoint] }, idle: {} } });
    await gw.waitForWorkers("echo", 1);
  });
  after(async () => {
    await gw.stop();
    worker.close();
  });

  const stats = async (): Promise<Stats> =>
    (await (await fetch(`${gw.adminUrl}/admin/console/stats`)).json()) as Stats;
  const of = (all: Stats, name: string) => all.services.find((service) => service.name === name)!;

  test("stats count the HTTP calls and 5xx answers of each service, with p50 and p99 of the calls in the window", async () => {
    for (let i = 0; i < 10; i++)
      assert.equal(
        (await fetch(`${gw.url}/v1/echo`, { method: "POST", body: `call ${i}` })).status,
        200,
      );
    for (let i = 0; i < 3; i++)
      assert.equal((await fetch(`${gw.url}/v1/idle`, { method: "POST", body: "x" })).status, 503);

    const first = await stats();
    assert.equal(first.windowSeconds, null, "the first read covers everything since start");
    assert.deepEqual(
      first.services.map((service) => service.name),
      ["echo", "idle"],
    );
    const echoStats = of(first, "echo");
    assert.equal(echoStats.requests, 10);
    assert.equal(echoStats.errors, 0);
    assert.equal(echoStats.windowRequests, 10);
    assert.ok(
      echoStats.p50Ms !== null &&
        echoStats.p50Ms > 0 &&
        echoStats.p99Ms !== null &&
        echoStats.p99Ms >= echoStats.p50Ms,
      JSON.stringify(echoStats),
    );
    assert.deepEqual(
      { requests: of(first, "idle").requests, errors: of(first, "idle").errors },
      { requests: 3, errors: 3 },
    );

    for (let i = 0; i < 4; i++)
      await (await fetch(`${gw.url}/v1/echo`, { method: "POST", body: "more" })).arrayBuffer();
    const second = await stats();
    assert.ok(
      second.windowSeconds !== null && second.windowSeconds < 60,
      "later reads cover the time since the first",
    );
    assert.equal(of(second, "echo").requests, 14);
    assert.equal(
      of(second, "echo").windowRequests,
      4,
      "the window holds only the calls since the first read",
    );
  });

  test("try it calls the service in process and reports status, headers, body, duration and request id", async () => {
    const response = await tryCall(gw, {
      service: "echo",
      method: "post",
      path: "/orders/42?expand=1",
      headers: { "x-request-id": "console-try-1" },
      body: '{"hello":"console"}',
    });
    assert.equal(response.status, 200);
    const result = (await response.json()) as TryResult;
    assert.equal(result.status, 200);
    assert.equal(result.body, '{"hello":"console"}');
    assert.equal(result.bodyEncoding, "utf8");
    assert.equal(result.bodyBytes, 19);
    assert.equal(result.truncated, false);
    assert.ok(result.durationMs > 0);
    assert.equal(result.requestId, "console-try-1");
    assert.deepEqual(
      [result.traceId, result.traceIdSource],
      ["console-try-1", "request-id"],
      "with tracing off the request id stands in",
    );
    assert.ok(
      result.headers.some(([name, value]) => name === "x-request-id" && value === "console-try-1"),
    );
    assert.deepEqual(worker.received.at(-1)?.map(String), ['{"hello":"console"}']);
    const access = gw.logs.find(
      (line) => line.event === "access" && line.request_id === "console-try-1",
    );
    assert.equal(
      access?.path,
      "/v1/echo/orders/42",
      "the call went through the public app's access log",
    );
  });

  test("try it reports a failed call with the call's own status and problem document", async () => {
    const noWorker = (await (
      await tryCall(gw, { service: "idle", method: "GET" })
    ).json()) as TryResult;
    assert.equal(noWorker.status, 503);
    assert.equal((JSON.parse(noWorker.body) as { code: string }).code, "NO_WORKER");
    assert.ok(noWorker.headers.some(([name]) => name === "retry-after"));
    const unknown = (await (
      await tryCall(gw, { service: "nosuch", method: "POST", body: "x" })
    ).json()) as TryResult;
    assert.equal(unknown.status, 404);
    assert.equal((JSON.parse(unknown.body) as { code: string }).code, "UNKNOWN_SERVICE");
  });

  test("try it refuses what is not a call: non-JSON bodies, bad methods, bad services and paths that leave the service", async () => {
    const form = await fetch(`${gw.adminUrl}/admin/console/try`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: '{"service":"echo","method":"POST"}',
    });
    assert.equal(form.status, 400, "a cross-site form post (text/plain) is refused");
    for (const input of [
      { service: "echo", method: "PO ST" },
      { service: "../admin", method: "GET" },
      { service: "echo", method: "GET", path: "/../../healthz" },
      { service: "echo", method: "GET", path: "no-slash" },
      { service: "echo", method: "GET", extra: true },
    ]) {
      const response = await tryCall(gw, input);
      assert.equal(response.status, 400, JSON.stringify(input));
      assert.equal(((await response.json()) as { code: string }).code, "BAD_REQUEST");
    }
  });
});

describe("the console with an admin token", () => {
  const token = "console-test-token-0123456789";
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({ services: { echo: {} } }, { adminToken: token });
  });
  after(() => gw.stop());

  test("the pages, assets and document need no token, while stats and try it do", async () => {
    for (const path of ["/admin/", "/admin/docs", "/admin/assets/console.js", "/openapi.yaml"]) {
      const response = await fetch(`${gw.adminUrl}${path}`);
      assert.equal(response.status, 200, path);
      await response.arrayBuffer();
    }
    assert.equal((await fetch(`${gw.adminUrl}/admin/console/stats`)).status, 401);
    assert.equal((await tryCall(gw, { service: "echo", method: "GET" })).status, 401);
    const bearer = { authorization: `Bearer ${token}` };
    assert.equal(
      (await fetch(`${gw.adminUrl}/admin/console/stats`, { headers: bearer })).status,
      200,
    );
    const result = (await (
      await tryCall(gw, { service: "echo", method: "GET" }, bearer)
    ).json()) as TryResult;
    assert.equal(result.status, 503, "the call itself ran: echo has no worker");
  });
});

describe("try it with tracing on", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let gw: TestGateway;
  let worker: InProcessWorker;

  before(async () => {
    provider.register();
    worker = await startWorker(echo);
    gw = await startGateway({ services: { echo: { workers: [worker.endpoint] } } });
    await gw.waitForWorkers("echo", 1);
  });
  after(async () => {
    await gw.stop();
    worker.close();
    await provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  test("the trace id shown is the one of the call's trace, whose spans the gateway recorded", async () => {
    const result = (await (
      await tryCall(gw, { service: "echo", method: "POST", body: "traced" })
    ).json()) as TryResult;
    assert.equal(result.status, 200);
    assert.equal(result.traceIdSource, "traceparent");
    assert.match(result.traceId ?? "", /^[0-9a-f]{32}$/);
    const spans = exporter
      .getFinishedSpans()
      .filter((span) => span.spanContext().traceId === result.traceId);
    const names = spans.map((span) => span.name);
    assert.ok(names.includes("console.try echo"), names.join(", "));
    assert.ok(names.includes("POST /v1/:service/*"), names.join(", "));
    assert.ok(names.includes("zmq.request echo"), names.join(", "));
  });

  test("a traceparent given in the box is kept, and its trace id is the one shown", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const result = (await (
      await tryCall(gw, {
        service: "echo",
        method: "POST",
        headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
        body: "x",
      })
    ).json()) as TryResult;
    assert.deepEqual([result.traceId, result.traceIdSource], [traceId, "traceparent"]);
  });
});
