import assert from "node:assert/strict";
import { test } from "node:test";
import { CorrelationIds, splitReply } from "../../src/protocol/frames.js";

test("correlation ids carry the instance and a counter, and only ours map back to keys", () => {
  const ids = new CorrelationIds();
  const first = ids.next();
  const second = ids.next();
  assert.equal(first.id.length, 16);
  assert.notEqual(first.key, second.key);
  assert.equal(ids.keyOf(first.id), first.key);
  assert.equal(ids.keyOf(second.id), second.key);
  const otherInstance = new CorrelationIds();
  assert.equal(otherInstance.keyOf(first.id), undefined, "an id from another gateway process is never ours");
  assert.equal(ids.keyOf(Buffer.alloc(3)), undefined);
  assert.equal(ids.keyOf(undefined), undefined);
});

test("counters past 2^32 keep distinct keys", () => {
  const ids = new CorrelationIds();
  (ids as unknown as { counter: number }).counter = 2 ** 32 - 1;
  const a = ids.next();
  const b = ids.next();
  assert.equal(ids.keyOf(a.id), 2 ** 32);
  assert.equal(ids.keyOf(b.id), 2 ** 32 + 1);
});

test("splitReply needs an id and an empty delimiter", () => {
  assert.deepEqual(splitReply([Buffer.from("id"), Buffer.alloc(0), Buffer.from("x")]), { id: Buffer.from("id"), payload: [Buffer.from("x")] });
  assert.equal(splitReply([Buffer.from("id"), Buffer.from("x")]), undefined);
  assert.equal(splitReply([Buffer.from("id")]), undefined);
});
