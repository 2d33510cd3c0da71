import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, test } from "node:test";
import { createAccessLog, type AccessRecord } from "../../src/telemetry/access-log.js";
import { createLogger } from "../../src/telemetry/logger.js";

/** A logger writing into an array of raw lines. */
function capture(level: "info" | "warn" = "info"): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger(level, sink) };
}

const record: AccessRecord = {
  method: "POST",
  path: '/v1/echo/a"b\\c',
  service: "echo",
  status: 200,
  durationMs: 1.234,
  requestId: "req-1",
  worker: "w2",
};

describe("access log", () => {
  test("writes the line logger.info would, with the logger's bindings, and each key once", () => {
    const { lines, logger } = capture();
    const child = logger.child({ process: 3 });
    createAccessLog(child)!(record);
    child.info({ event: "access", method: "POST", path: record.path, service: "echo", status: 200, durationMs: 1.234, request_id: "req-1", worker: "w2" }, "request");
    assert.equal(lines.length, 2);
    const [fast, generic] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.ok(fast && generic);
    delete fast.time;
    delete generic.time;
    assert.deepEqual(fast, generic);
    assert.equal(fast.name, "zmq-gateway");
    assert.equal(fast.process, 3);
    assert.equal(fast.path, '/v1/echo/a"b\\c', "escaped and read back intact");
    assert.equal(lines[0]!.split('"service":').length, 2, "one service key");
    assert.match(lines[0]!, /"time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"/);
  });

  test("carries the span's trace ids when given, and leaves out absent service and worker", () => {
    const { lines, logger } = capture();
    createAccessLog(logger)!({ ...record, service: undefined, worker: undefined, traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "5fb397be34d26b51" });
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(line.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.equal(line.span_id, "5fb397be34d26b51");
    assert.equal("service" in line, false);
    assert.equal("worker" in line, false);
  });

  test("is off when the level is above info", () => {
    assert.equal(createAccessLog(capture("warn").logger), undefined);
  });
});
