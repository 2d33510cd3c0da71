import assert from "node:assert/strict";
import { test } from "node:test";
import { applyEnv, parseConfig, parseServicesEnv } from "../../src/config.js";
import { ConfigError } from "../../src/errors.js";
import { parseTimeoutHeader } from "../../src/http/timeout-header.js";

test("an empty config gets safe defaults", () => {
  const config = parseConfig({});
  assert.equal(config.http.port, 8080);
  assert.equal(config.admin.host, "127.0.0.1");
  assert.equal(config.admin.port, 9090);
  assert.deepEqual(config.services, {});
});

test("defaults: plain mode, 1 MiB body limit, window 16, buffered log, SCHED_BATCH I/O thread", () => {
  const config = parseConfig({ services: { echo: { workers: ["tcp://127.0.0.1:5555", { endpoint: "ipc:///tmp/w", meta: true }] } } });
  const echo = config.services.echo!;
  assert.equal(echo.mode, "plain");
  assert.equal(echo.maxBodyBytes, 1024 * 1024);
  assert.equal(echo.window, 16);
  assert.deepEqual(config.log, { level: "info", bufferBytes: 4096, flushIntervalMs: 100, access: true });
  assert.equal(config.zmq.ioThreadScheduling, "batch");
  assert.equal(config.zmq.ioThreads, 1);
  assert.deepEqual(echo.workers, [{ endpoint: "tcp://127.0.0.1:5555", meta: undefined, serverKey: undefined }, { endpoint: "ipc:///tmp/w", meta: true }]);
});

test("errors name the field and the value", () => {
  assert.throws(() => parseConfig({ services: { echo: { window: 257 } } }), (error: unknown) => error instanceof ConfigError && /services\.echo\.window: .*\(got 257\)/.test(error.message));
  assert.throws(() => parseConfig({ zmq: { ioThreadScheduling: "fifo" } }), /zmq\.ioThreadScheduling/);
  assert.throws(() => parseConfig({ drainTimeoutMs: "soon" }), /drainTimeoutMs: .*\(got "soon"\)/);
});

test("the environment overrides ports and adds services from one line", () => {
  const merged = applyEnv({ services: { echo: { workers: ["tcp://127.0.0.1:1"] } } }, {
    ZMQ_GATEWAY_PORT: "8081",
    ZMQ_GATEWAY_ADMIN_PORT: "9091",
    ZMQ_GATEWAY_SERVICES: "echo=tcp://127.0.0.1:2;files=tcp://127.0.0.1:3,tcp://127.0.0.1:4",
  });
  const config = parseConfig(merged);
  assert.equal(config.http.port, 8081);
  assert.equal(config.admin.port, 9091);
  assert.deepEqual(config.services.echo!.workers.map((w) => w.endpoint), ["tcp://127.0.0.1:1", "tcp://127.0.0.1:2"]);
  assert.deepEqual(config.services.files!.workers.map((w) => w.endpoint), ["tcp://127.0.0.1:3", "tcp://127.0.0.1:4"]);
  assert.throws(() => parseServicesEnv("no-equals-sign"), /ZMQ_GATEWAY_SERVICES/);
});

test("Request-Timeout accepts ms, s and bare milliseconds", () => {
  assert.equal(parseTimeoutHeader(undefined), undefined);
  assert.equal(parseTimeoutHeader("250ms"), 250);
  assert.equal(parseTimeoutHeader("2s"), 2000);
  assert.equal(parseTimeoutHeader("1.5s"), 1500);
  assert.equal(parseTimeoutHeader("300"), 300);
  for (const bad of ["", "0", "-1s", "fast", "1h"]) assert.throws(() => parseTimeoutHeader(bad), /Request-Timeout/);
});
