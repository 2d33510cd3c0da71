import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeReply } from "../../src/protocol/reply.js";

const b = (text: string) => Buffer.from(text);

describe("decodeReply", () => {
  test("a plain reply of one frame is a 200 with that body", () => {
    assert.deepEqual(decodeReply([b("hi")], "plain"), { ok: true, status: 200, body: b("hi"), headers: {} });
  });
  test("a plain reply of two frames or none is rejected with the count", () => {
    const two = decodeReply([b("a"), b("b")], "plain");
    assert.equal(two.ok, false);
    assert.match((two as { reason: string }).reason, /exactly one frame; it sent 2/);
    assert.equal(decodeReply([], "plain").ok, false);
  });
  test("meta reply meta sets status and filtered headers", () => {
    const result = decodeReply([b("x"), b(JSON.stringify({ status: 404, headers: { "X-A": "1", "Transfer-Encoding": "chunked", "set-cookie": "s=1", many: ["a", "b"], n: 5 } }))], "meta");
    assert.deepEqual(result, { ok: true, status: 404, body: b("x"), headers: { "x-a": "1", many: ["a", "b"], n: "5" } });
  });
  test("set-cookie passes only where allowed", () => {
    const result = decodeReply([b("x"), b(JSON.stringify({ headers: { "set-cookie": "s=1" } }))], "meta", { allowSetCookie: true });
    assert.deepEqual(result.ok && result.headers, { "set-cookie": "s=1" });
  });
  test("an echoed request meta is ignored", () => {
    const result = decodeReply([b("body"), b(JSON.stringify({ v: 1, kind: "zmq-gateway.request", method: "POST", headers: {} }))], "meta");
    assert.deepEqual(result, { ok: true, status: 200, body: b("body"), headers: {} });
  });
  const rejected: [string, Buffer[]][] = [
    ["three frames", [b("a"), b("{}"), b("c")]],
    ["meta that is not JSON", [b("a"), b("{")]],
    ["meta that is not UTF-8", [b("a"), Buffer.from([0xff, 0xfe])]],
    ["a status out of range", [b("a"), b('{"status": 99}')]],
    ["a status that is not a number", [b("a"), b('{"status": "200"}')]],
    ["a header with CR LF", [b("a"), b('{"headers": {"x": "a\\r\\nb: c"}}')]],
    ["an invalid header name", [b("a"), b('{"headers": {"bad name": "v"}}')]],
  ];
  for (const [what, frames] of rejected) {
    test(`meta replies with ${what} are rejected, never thrown`, () => {
      const result = decodeReply(frames, "meta");
      assert.equal(result.ok, false);
      assert.ok((result as { reason: string }).reason.length > 0);
    });
  }
});
