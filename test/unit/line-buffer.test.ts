import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createAccessLog } from "../../src/telemetry/access-log.js";
import { LineBuffer } from "../../src/telemetry/line-buffer.js";
import { createLogger } from "../../src/telemetry/logger.js";

/** A sink that keeps every chunk it is given, decoded (a copy: the buffer must not change after). */
function sink(): { chunks: string[]; raw: Buffer[]; write(chunk: Buffer): void } {
  const chunks: string[] = [];
  const raw: Buffer[] = [];
  return {
    chunks,
    raw,
    write: (chunk) => {
      raw.push(chunk);
      chunks.push(chunk.toString("utf8"));
    },
  };
}

describe("log line buffer", () => {
  test("lines wait until the buffer holds the limit, then go out as one chunk, in order", () => {
    const out = sink();
    const buffer = new LineBuffer(out, 10);
    buffer.write("abc\n");
    buffer.write("def\n");
    assert.deepEqual(out.chunks, [], "8 bytes are under the limit of 10");
    buffer.write("ghi\n");
    assert.deepEqual(out.chunks, ["abc\ndef\nghi\n"]);
    buffer.write("j\n");
    assert.deepEqual(out.chunks, ["abc\ndef\nghi\n"], "the buffer starts empty again");
  });

  test("counts bytes, not characters, and never writes into a chunk it has handed over", () => {
    const out = sink();
    const buffer = new LineBuffer(out, 8);
    buffer.write("h\u00e9\u00e9\n");
    assert.deepEqual(out.chunks, [], "4 characters, 6 bytes");
    buffer.write("\u20ac\n");
    assert.deepEqual(out.chunks, ["h\u00e9\u00e9\n\u20ac\n"], "6 + 4 bytes reach the limit of 8");
    const first = Buffer.from(out.raw[0]!);
    buffer.write("0123456789\n");
    buffer.write("abcdefghij\n");
    assert.deepEqual(out.raw[0], first, "the first chunk is unchanged by the lines after it");
    assert.deepEqual(out.chunks.slice(1), ["0123456789\n", "abcdefghij\n"]);
  });

  test("a line longer than a chunk can hold goes out whole, after the lines before it", () => {
    const out = sink();
    const buffer = new LineBuffer(out, 100);
    buffer.write("first\n");
    const long = `${"\u00e9".repeat(40_000)}\n`;
    buffer.write(long);
    buffer.write("last\n");
    buffer.flush();
    assert.deepEqual(out.chunks, ["first\n", long, "last\n"]);
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
