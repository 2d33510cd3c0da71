import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, test } from "node:test";
import { Request } from "zeromq";
import { startGateway } from "../helpers/gateway.js";
import { spawnGateway, writeConfigFile } from "../helpers/gateway-process.js";
import { SpanKindCode, startOtlpReceiver } from "../helpers/otlp-receiver.js";
import { waitUntil } from "../helpers/wait.js";
import { echo, startWorker } from "../helpers/workers.js";

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

function otelEnv(endpoint: string): Record<string, string> {
  const blank = Object.fromEntries(Object.keys(process.env).filter((name) => name.startsWith("OTEL_")).map((name) => [name, ""]));
  return { ...blank, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_BSP_SCHEDULE_DELAY: "50" };
}

describe("log lines and the request they belong to", () => {
  test("every line written while a request is handled carries its trace id, span id and request id, and nothing reaches stderr", async () => {
    const receiver = await startOtlpReceiver();
    const slow = await startWorker(async (frames) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return frames;
    });
    const plain = await startWorker(echo);
    const config = writeConfigFile({
      lingerMs: 0,
      drainTimeoutMs: 500,
      services: {
        // one missed deadline ejects the worker: a warn line written from the request's deadline timer
        slow: { workers: [slow.endpoint], timeoutMs: 50, outlier: { consecutiveTimeouts: 1 } },
        plain: { workers: [plain.endpoint], frontend: "tcp://127.0.0.1:0" },
      },
    });
    const gateway = await spawnGateway(["--config", config], otelEnv(receiver.url));
    let exited: Awaited<typeof gateway.exited>;
    try {
      await waitUntil(async () => {
        const response = await fetch(`${gateway.url}/readyz`);
        const { services } = (await (await fetch(`${gateway.adminUrl}/admin/services`)).json()) as { services: { connectedWorkers: number }[] };
        return response.ok && services.every((service) => service.connectedWorkers > 0);
      }, "connected workers");

      const traceId = hex(16);
      const response = await fetch(`${gateway.url}/v1/slow`, { method: "POST", body: "x", headers: { traceparent: `00-${traceId}-${hex(8)}-01` } });
      assert.equal(response.status, 504);
      const requestId = response.headers.get("x-request-id") ?? "";
      const spans = await receiver.waitForSpans((all) => all.some((span) => span.traceId === traceId && span.kind === SpanKindCode.server), "the SERVER span");
      const server = spans.find((span) => span.traceId === traceId && span.kind === SpanKindCode.server);

      await waitUntil(() => gateway.logs.some((line) => line.event === "worker-ejected"), "the ejection warning");
      const lines = gateway.logs.filter((line) => line.request_id === requestId);
      assert.deepEqual(lines.map((line) => line.event).sort(), ["access", "worker-ejected"]);
      for (const line of lines) {
        assert.equal(line.trace_id, traceId, `${String(line.event)} line has the trace id`);
        assert.equal(line.span_id, server?.spanId, `${String(line.event)} line has the SERVER span id`);
      }
      const access = lines.find((line) => line.event === "access");
      assert.equal(access?.request_id, requestId);
      assert.equal(access?.status, 504);

      // A REQ client's call has no request id, but its access line names the front door span's trace.
      const listening = gateway.logs.find((line) => line.event === "listening") as { frontends: Record<string, string> };
      const socket = new Request({ linger: 0, receiveTimeout: 5_000 });
      try {
        socket.connect(listening.frontends.plain ?? "");
        await socket.send("hello");
        await socket.receive();
      } finally {
        socket.close();
      }
      await waitUntil(() => gateway.logs.some((line) => line.frontDoor === "zmq"), "the front door access line");
      const door = gateway.logs.find((line) => line.frontDoor === "zmq");
      const doorSpans = await receiver.waitForSpans((all) => all.some((span) => span.name === "zmq.frontend plain"), "the front door span");
      assert.equal(door?.trace_id, doorSpans.find((span) => span.name === "zmq.frontend plain")?.traceId);
    } finally {
      gateway.child.kill("SIGTERM");
      exited = await gateway.exited;
      slow.close();
      plain.close();
      await receiver.close();
    }
    assert.equal(exited.code, 0);
    assert.equal(exited.stderr, "", "nothing is written outside the logger");
  });

  test("with tracing off, request lines still carry the request id and no trace fields", async () => {
    const worker = await startWorker(echo);
    const gw = await startGateway({ services: { echo: { workers: [worker.endpoint] } } });
    try {
      await gw.waitForWorkers("echo", 1);
      const response = await fetch(`${gw.url}/v1/echo`, { method: "POST", body: "x", headers: { "x-request-id": "client-chosen-id" } });
      assert.equal(response.status, 200);
      await waitUntil(() => gw.logs.some((line) => line.request_id === "client-chosen-id"), "the access line");
      const line = gw.logs.find((candidate) => candidate.request_id === "client-chosen-id");
      assert.equal(line?.event, "access");
      assert.equal(line?.trace_id, undefined);
      assert.equal(line?.span_id, undefined);
    } finally {
      await gw.stop();
      worker.close();
    }
  });
});
