import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { Request } from "zeromq";
import { readTracingSettings } from "../../src/telemetry/tracing-settings.js";
import { runCli, spawnGateway, writeConfigFile, type GatewayProcess } from "../helpers/gateway-process.js";
import { SpanKindCode, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../helpers/otlp-receiver.js";
import { waitUntil } from "../helpers/wait.js";
import { echo, spawnNodeWorker, spawnPythonWorker, startWorker, type InProcessWorker, type WorkerProcess } from "../helpers/workers.js";

const GATEWAY_SERVICE = "zmq-gateway-under-test";

/** OTEL_* for a process that exports to `receiver` quickly; every other OTEL_* blanked. */
function tracingEnv(receiver: OtlpReceiver, serviceName: string): Record<string, string> {
  return {
    ...blankOtelEnv(),
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_SERVICE_NAME: serviceName,
    OTEL_BSP_SCHEDULE_DELAY: "50",
  };
}

/** The test runner's own OTEL_* (if any) must not leak into the processes under test. */
function blankOtelEnv(): Record<string, string> {
  return Object.fromEntries(Object.keys(process.env).filter((name) => name.startsWith("OTEL_")).map((name) => [name, ""]));
}

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

function traceHeaders(traceId: string, parentId: string): Record<string, string> {
  return { traceparent: `00-${traceId}-${parentId}-01`, tracestate: "vendor=abc", baggage: "tenant=acme" };
}

function one(spans: ReceivedSpan[], what: string, predicate: (span: ReceivedSpan) => boolean): ReceivedSpan {
  const found = spans.filter(predicate);
  assert.equal(found.length, 1, `expected exactly one ${what}, got ${found.length}: ${JSON.stringify(found)}`);
  return found[0]!;
}

const inTrace = (spans: ReceivedSpan[], traceId: string) => spans.filter((span) => span.traceId === traceId);

/**
 * A module preloaded into a process (NODE_OPTIONS=--import) that, at exit, writes to
 * stderr which OpenTelemetry SDK/exporter modules were loaded and how many outgoing
 * TCP connections were opened (diagnostics channel net.client.socket).
 */
function writeProbe(): string {
  const file = join(mkdtempSync(join(tmpdir(), "zmq-gateway-probe-")), "probe.mjs");
  writeFileSync(
    file,
    `import { subscribe } from "node:diagnostics_channel";
import { writeSync } from "node:fs";
import { createRequire } from "node:module";
let sockets = 0;
subscribe("net.client.socket", () => sockets++);
process.on("exit", () => {
  const modules = Object.keys(createRequire(import.meta.url).cache).filter((path) => /@opentelemetry[\\\\/](sdk-|exporter-|otlp-)/.test(path));
  writeSync(2, "probe " + JSON.stringify({ sockets, modules }) + "\\n");
});
`,
  );
  return pathToFileURL(file).href;
}

function readProbe(stderr: string): { sockets: number; modules: string[] } {
  const line = stderr.split("\n").find((candidate) => candidate.startsWith("probe "));
  assert.ok(line, `the probe wrote nothing; stderr: ${stderr}`);
  return JSON.parse(line.slice("probe ".length)) as { sockets: number; modules: string[] };
}

async function stopGateway(gateway: GatewayProcess): Promise<{ code: number | null; stderr: string }> {
  gateway.child.kill("SIGTERM");
  return gateway.exited;
}

describe("tracing with a real OTLP/HTTP receiver", () => {
  let receiver: OtlpReceiver;
  let gateway: GatewayProcess;
  let tsWorker: WorkerProcess;
  let pyWorker: WorkerProcess;
  let plain: InProcessWorker;
  let slow: InProcessWorker;
  let bad: InProcessWorker;
  let dying: InProcessWorker | undefined;
  let frontend: string;

  before(async () => {
    receiver = await startOtlpReceiver();
    tsWorker = await spawnNodeWorker("traced-worker", { WORKER_BIND: "tcp://127.0.0.1:0", ...tracingEnv(receiver, "traced-worker") });
    pyWorker = await spawnPythonWorker("traced_worker");
    plain = await startWorker(echo);
    slow = await startWorker(async (frames) => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return frames;
    });
    bad = await startWorker(() => ["one", "two"]);
    dying = await startWorker(() => {
      dying?.close();
      return [];
    });
    const config = writeConfigFile({
      lingerMs: 0,
      drainTimeoutMs: 1_000,
      services: {
        ts: { mode: "meta", workers: [tsWorker.endpoint] },
        py: { mode: "meta", workers: [pyWorker.endpoint] },
        plain: { workers: [plain.endpoint], frontend: "tcp://127.0.0.1:0" },
        slow: { workers: [slow.endpoint], timeoutMs: 100 },
        bad: { workers: [bad.endpoint] },
        lost: { workers: [dying.endpoint] },
      },
    });
    gateway = await spawnGateway(["--config", config], tracingEnv(receiver, GATEWAY_SERVICE));
    const listening = gateway.logs.find((entry) => entry.event === "listening") as { frontends: Record<string, string> };
    frontend = listening.frontends.plain ?? "";
    await waitUntil(async () => {
      const { services } = (await (await fetch(`${gateway.adminUrl}/admin/services`)).json()) as { services: { connectedWorkers: number }[] };
      return services.every((service) => service.connectedWorkers >= 1);
    }, "every service to have a connected worker");
  });

  after(async () => {
    await stopGateway(gateway);
    tsWorker.kill("SIGTERM");
    pyWorker.kill("SIGTERM");
    await Promise.all([tsWorker.exited, pyWorker.exited]);
    for (const worker of [plain, slow, bad, dying]) worker?.close();
    await receiver.close();
  });

  test("one trace runs from the client's traceparent through the SERVER and CLIENT spans to the TypeScript worker's span", async () => {
    const traceId = hex(16);
    const parentId = hex(8);
    const response = await fetch(`${gateway.url}/v1/ts/orders/42?expand=1`, { method: "POST", body: "hi", headers: traceHeaders(traceId, parentId) });
    assert.equal(response.status, 200);
    const requestId = response.headers.get("x-request-id");
    assert.deepEqual(await response.json(), { worker: "typescript", method: "POST", path: "/orders/42", requestId, echo: "hi" });

    const spans = inTrace(await receiver.waitForSpans((all) => inTrace(all, traceId).length >= 3, "gateway and worker spans"), traceId);
    const server = one(spans, "gateway SERVER span", (span) => span.service === GATEWAY_SERVICE && span.kind === SpanKindCode.server);
    const client = one(spans, "gateway CLIENT span", (span) => span.service === GATEWAY_SERVICE && span.kind === SpanKindCode.client);
    const worker = one(spans, "worker span", (span) => span.service === "traced-worker");

    assert.equal(server.parentSpanId, parentId, "the SERVER span is a child of the caller's span");
    assert.equal(client.parentSpanId, server.spanId, "the CLIENT span is a child of the SERVER span");
    assert.equal(worker.parentSpanId, client.spanId, "the worker's span is a child of the CLIENT span");
    assert.equal(server.traceState, "vendor=abc");
    assert.equal(worker.traceState, "vendor=abc", "tracestate reaches the worker through the meta frame");

    assert.equal(server.name, "POST /v1/:service/*");
    assert.equal(server.attributes["http.request.method"], "POST");
    assert.equal(server.attributes["http.route"], "/v1/:service/*");
    assert.equal(server.attributes["url.path"], "/v1/ts/orders/42");
    assert.equal(server.attributes["http.response.status_code"], 200);
    assert.equal(server.attributes["zmq_gateway.request_id"], requestId);
    assert.equal(server.attributes["zmq_gateway.service"], "ts");
    assert.equal(server.status.code, 0);

    assert.equal(client.name, "zmq.request ts");
    assert.equal(client.attributes["zmq_gateway.service"], "ts");
    assert.equal(client.attributes["zmq_gateway.worker.endpoint"], tsWorker.endpoint);
    assert.equal(client.attributes["zmq_gateway.attempt"], 1);
    assert.equal(client.attributes["zmq_gateway.outcome"], "replied");
    assert.equal(typeof client.attributes["zmq_gateway.queue_wait_ms"], "number");
    assert.equal(client.attributes["server.address"], "127.0.0.1");

    assert.equal(worker.kind, SpanKindCode.server);
    assert.equal(worker.attributes["http.request.method"], "POST");
    assert.equal(worker.attributes["url.path"], "/orders/42");
    assert.equal(worker.attributes["zmq_gateway.request_id"], requestId);
  });

  test("the Python worker records the gateway's CLIENT span as the parent of its own span", async () => {
    const traceId = hex(16);
    const response = await fetch(`${gateway.url}/v1/py`, { method: "POST", body: "from python", headers: traceHeaders(traceId, hex(8)) });
    assert.equal(response.status, 200);
    const recorded = (await response.json()) as { trace_id: string; parent_span_id: string; span_id: string; traceparent: string };

    const spans = inTrace(await receiver.waitForSpans((all) => inTrace(all, traceId).length >= 2, "gateway spans"), traceId);
    const server = one(spans, "gateway SERVER span", (span) => span.kind === SpanKindCode.server);
    const client = one(spans, "gateway CLIENT span", (span) => span.kind === SpanKindCode.client);
    assert.equal(client.parentSpanId, server.spanId);
    assert.equal(recorded.trace_id, traceId);
    assert.equal(recorded.parent_span_id, client.spanId, "the worker's parent is the CLIENT span");
    assert.match(recorded.span_id, /^[0-9a-f]{16}$/);
    assert.notEqual(recorded.span_id, client.spanId);
    assert.equal(recorded.traceparent, `00-${traceId}-${recorded.span_id}-01`);
  });

  test("a plain worker gets the body alone while the gateway's spans cover both legs", async () => {
    const traceId = hex(16);
    const parentId = hex(8);
    const response = await fetch(`${gateway.url}/v1/plain`, { method: "POST", body: "just the body", headers: traceHeaders(traceId, parentId) });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "just the body");
    assert.deepEqual(plain.received.at(-1), [Buffer.from("just the body")]);

    const spans = inTrace(await receiver.waitForSpans((all) => inTrace(all, traceId).length >= 2, "gateway spans"), traceId);
    const server = one(spans, "SERVER span", (span) => span.kind === SpanKindCode.server);
    const client = one(spans, "CLIENT span", (span) => span.kind === SpanKindCode.client);
    assert.equal(server.parentSpanId, parentId);
    assert.equal(client.parentSpanId, server.spanId);
    assert.equal(client.attributes["zmq_gateway.outcome"], "replied");
  });

  test("a REQ client's call through the ROUTER front door gets a SERVER span and a CLIENT span to the worker", async () => {
    const socket = new Request({ linger: 0, receiveTimeout: 5_000 });
    try {
      socket.connect(frontend);
      await socket.send("via the front door");
      const [reply] = await socket.receive();
      assert.equal(reply?.toString(), "via the front door");
    } finally {
      socket.close();
    }
    const isFrontDoor = (span: ReceivedSpan) => span.name === "zmq.frontend plain";
    const all = await receiver.waitForSpans(
      (spans) => spans.some((span) => isFrontDoor(span) && spans.some((child) => child.parentSpanId === span.spanId)),
      "front door span with its CLIENT child",
    );
    const door = one(all, "front door span", isFrontDoor);
    const client = one(all, "CLIENT child", (span) => span.parentSpanId === door.spanId);
    assert.equal(door.kind, SpanKindCode.server);
    assert.equal(door.parentSpanId, "");
    assert.equal(door.attributes["zmq_gateway.service"], "plain");
    assert.equal(door.attributes["zmq_gateway.status"], 200);
    assert.equal(client.kind, SpanKindCode.client);
    assert.equal(client.traceId, door.traceId);
    assert.equal(client.attributes["zmq_gateway.outcome"], "replied");
  });

  test("a 504, a bad reply's 502 and a lost worker's 502 mark their spans as errors with error.type", async () => {
    const cases = [
      { service: "slow", status: 504, serverError: "TIMEOUT", clientError: "TIMEOUT", outcome: "timeout" },
      { service: "bad", status: 502, serverError: "BAD_REPLY", clientError: undefined, outcome: "replied" },
      { service: "lost", status: 502, serverError: "WORKER_LOST", clientError: "WORKER_LOST", outcome: "lost" },
    ];
    for (const expected of cases) {
      const traceId = hex(16);
      const response = await fetch(`${gateway.url}/v1/${expected.service}`, { method: "POST", body: "x", headers: traceHeaders(traceId, hex(8)) });
      assert.equal(response.status, expected.status, expected.service);
      await response.arrayBuffer();
      const spans = inTrace(await receiver.waitForSpans((all) => inTrace(all, traceId).length >= 2, `${expected.service} spans`), traceId);
      const server = one(spans, "SERVER span", (span) => span.kind === SpanKindCode.server);
      const client = one(spans, "CLIENT span", (span) => span.kind === SpanKindCode.client);
      assert.equal(server.status.code, 2, `${expected.service}: SERVER span status is ERROR`);
      assert.equal(server.attributes["error.type"], expected.serverError);
      assert.equal(server.attributes["http.response.status_code"], expected.status);
      assert.equal(client.attributes["zmq_gateway.outcome"], expected.outcome);
      assert.equal(client.attributes["error.type"], expected.clientError, `${expected.service}: CLIENT error.type`);
      assert.equal(client.status.code, expected.clientError ? 2 : 0);
    }
  });
});

describe("tracing off", () => {
  test("with no OTEL_* set, no exporter is created and no network connection is attempted", async () => {
    const receiver = await startOtlpReceiver();
    const worker = await startWorker(echo);
    const probe = writeProbe();
    const config = writeConfigFile({ lingerMs: 0, drainTimeoutMs: 500, services: { echo: { workers: [worker.endpoint] } } });
    const run = async (env: Record<string, string>) => {
      const gateway = await spawnGateway(["--config", config], { ...env, NODE_OPTIONS: `--import=${probe}` });
      try {
        await waitUntil(async () => {
          const response = await fetch(`${gateway.url}/v1/echo`, { method: "POST", body: "ping", headers: traceHeaders(hex(16), hex(8)) });
          return response.status === 200 && (await response.text()) === "ping";
        }, "an echoed call");
      } finally {
        gateway.child.kill("SIGTERM");
      }
      const exited = await gateway.exited;
      assert.equal(exited.code, 0, exited.stderr);
      return { probe: readProbe(exited.stderr), logs: gateway.logs };
    };
    try {
      const off = await run(blankOtelEnv());
      assert.deepEqual(off.probe, { sockets: 0, modules: [] }, "no SDK or exporter module loaded, no outgoing connection");
      assert.ok(off.logs.some((line) => line.event === "tracing" && line.enabled === false));
      assert.equal(receiver.connections, 0);

      // The same probe on a gateway with tracing on sees the exporter and its connection.
      const on = await run(tracingEnv(receiver, GATEWAY_SERVICE));
      assert.ok(on.probe.modules.some((path) => path.includes("exporter-trace-otlp-http")), JSON.stringify(on.probe.modules));
      assert.ok(on.probe.sockets >= 1);
      assert.ok(receiver.connections >= 1);
    } finally {
      worker.close();
      await receiver.close();
    }
  });
});

describe("tracing settings from the environment", () => {
  test("an OTLP endpoint or OTEL_TRACES_EXPORTER=otlp turns tracing on, with protobuf unless http/json is asked for", () => {
    assert.deepEqual(readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }), { enabled: true, protocol: "http/protobuf" });
    assert.deepEqual(readTracingSettings({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }), { enabled: true, protocol: "http/json" });
    assert.deepEqual(
      readTracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://collector/v1/traces", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/json", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }),
      { enabled: true, protocol: "http/json" },
    );
  });

  test("no endpoint, OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true leave tracing off", () => {
    assert.equal(readTracingSettings({}).enabled, false);
    assert.equal(readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "" }).enabled, false);
    assert.equal(readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_TRACES_EXPORTER: "none" }).enabled, false);
    assert.equal(readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_SDK_DISABLED: "true" }).enabled, false);
  });

  test("a value the gateway cannot honour stops the CLI with exit code 2 and names the variable", async () => {
    const config = writeConfigFile({ services: {} });
    const cases: [Record<string, string>, RegExp][] = [
      [{ OTEL_TRACES_EXPORTER: "console" }, /OTEL_TRACES_EXPORTER: "console" is not supported/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, /OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: "127.0.0.1:4318" }, /OTEL_EXPORTER_OTLP_ENDPOINT: must be an http\(s\) URL/],
      [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_TRACES_SAMPLER: "traceidratio", OTEL_TRACES_SAMPLER_ARG: "2" }, /OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1/],
    ];
    for (const [env, message] of cases) {
      const result = await runCli(["--config", config], { ...blankOtelEnv(), ...env });
      assert.equal(result.code, 2, JSON.stringify(env));
      assert.match(result.stderr, message);
    }
  });
});
