import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createAccessLog } from "../../src/telemetry/access-log.js";
import { LineBuffer } from "../../src/telemetry/line-buffer.js";
import { createLogger } from "../../src/telemetry/logger.js";

/** A sink that keeps every chunk it is given, as written. */
function sink(): { chunks: string[]; write(chunk: string): void } {
  const chunks: string[] = [];
  return { chunks, write: (chunk) => void chunks.push(chunk) };
}

describe("log line buffer", () => {
  test("lines wait until the buffer holds the limit, then go out as one chunk, in order", () => {
    const out = sink();
    const buffer = new LineBuffer(out, 10);
    buffer.write("abc\n");
    buffer.write("def\n");
    assert.deepEqual(out.chunks, [], "8 characters are under the limit of 10");
    buffer.write("ghi\n");
    assert.deepEqual(out.chunks, ["abc\ndef\nghi\n"]);
    buffer.write("j\n");
    assert.deepEqual(out.chunks, ["abc\ndef\nghi\n"], "the buffer starts empty again");
  });

  test("flush writes what waits and calls back; with nothing waiting it writes nothing", () => {
    const out = sink();
    const buffer = new LineBuffer(out, 1_000);
    let called = 0;
    buffer.flush(() => called++);
    assert.deepEqual(out.chunks, []);
    buffer.write("one\n");
    buffer.flush(() => called++);
    assert.deepEqual(out.chunks, ["one\n"]);
    assert.equal(called, 2);
  });

  test("a pino logger over it loses no line and keeps their order, in fewer writes than lines", () => {
    const out = sink();
    const buffer = new LineBuffer(out, 4_096);
    const logger = createLogger("info", buffer);
    const access = createAccessLog(logger)!;
    for (let i = 0; i < 200; i++) {
      if (i % 50 === 0) logger.warn({ event: "marker", i }, "marker");
      access({ method: "GET", path: `/v1/echo/${i}`, service: "echo", status: 200, durationMs: 1, requestId: `r${i}`, worker: "w1" });
    }
    logger.flush();
    const lines = out.chunks.join("").split("\n").filter(Boolean);
    assert.equal(lines.length, 204);
    assert.ok(out.chunks.length < 30, `${out.chunks.length} writes for 204 lines`);
    const parsed = lines.map((line) => JSON.parse(line) as { event: string; path?: string; i?: number });
    const order = parsed.map((line) => (line.event === "marker" ? `m${line.i}` : line.path));
    const expected: string[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 50 === 0) expected.push(`m${i}`);
      expected.push(`/v1/echo/${i}`);
    }
    assert.deepEqual(order, expected);
  });
});
