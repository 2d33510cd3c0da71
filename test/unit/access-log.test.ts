import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, test } from "node:test";
import { accessLine, createAccessLog, type AccessRecord } from "../../src/telemetry/access-log.js";
import { LineBuffer } from "../../src/telemetry/line-buffer.js";
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

  test("into the log buffer, writes as bytes exactly the line the string form builds", () => {
    const chunks: Buffer[] = [];
    const buffer = new LineBuffer({ write: (chunk) => void chunks.push(chunk) }, 1);
    const logger = createLogger("info", buffer).child({ region: "z\u00fcrich" });
    const bindings = `,"name":"zmq-gateway","region":"z\u00fcrich"`;
    const write = createAccessLog(logger)!;
    // Lines in string form go through write(), as pino's do; the others are encoded as bytes.
    const writeString = buffer.write.bind(buffer);
    let strings = 0;
    buffer.write = (line) => {
      strings++;
      writeString(line);
    };
    const durations = [0, 0.001, 0.01, 0.1, 0.5, 1, 1.2, 2.345, 10.05, 99.999, 100, 1234.5, 30_000, 123_456.789, 987_654_321.001, 2e12, 1e21];
    for (let i = 0; i < 2_000; i++) durations.push(Math.round(Math.random() * 10 ** (1 + (i % 9)) * 1000) / 1000);
    const paths = ["/v1/echo", "/v1/echo/a b/~!$&'()*+,;=:@", '/v1/echo/a"b', "/v1/echo/a\\b", "/v1/echo/\u00e9t\u00e9", "/v1/echo/\t", "/v1/echo/\u007f", "/v1/\ud83d\ude00", `/v1/${"x".repeat(20_000)}`];
    const records: AccessRecord[] = [];
    durations.forEach((durationMs, i) =>
      records.push({
        method: i % 3 === 0 ? "POST" : "GET",
        path: paths[i % paths.length]!,
        service: i % 4 === 0 ? undefined : i % 5 === 0 ? 'e"cho' : "echo",
        status: [200, 204, 404, 502, 599][i % 5]!,
        durationMs,
        requestId: i % 2 === 0 ? "6f1c0e3a-2b7d-4c55-9a0e-5d4f3b2a1c00" : `req-${i}`,
        worker: i % 6 === 0 ? undefined : `w${i % 3}`,
        ...(i % 7 === 0 && { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: i % 14 === 0 ? "5fb397be34d26b51" : undefined }),
      }),
    );
    const withoutTime = (line: string): string => line.replace(/,"time":"[^"]*"/, "");
    for (const record of records) {
      write(record);
      assert.equal(chunks.length, 1, "a limit of 1 writes every line at once");
      const written = chunks.pop()!.toString("utf8");
      assert.match(written, /^\{"level":"info","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",/);
      assert.equal(withoutTime(written), withoutTime(accessLine(record, bindings)), JSON.stringify(record).slice(0, 200));
      assert.equal((JSON.parse(written) as { path: string }).path, record.path);
    }
    const encoded = records.length - strings;
    assert.ok(encoded > records.length / 10 && strings > records.length / 10, `${encoded} of ${records.length} lines as bytes, ${strings} as strings`);
  });

  test("is off when the level is above info", () => {
    assert.equal(createAccessLog(capture("warn").logger), undefined);
  });
});
