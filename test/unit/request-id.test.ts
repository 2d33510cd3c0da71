import assert from "node:assert/strict";
import { test } from "node:test";
import { chooseRequestId, randomUuid } from "../../src/http/request-id.js";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test("randomUuid gives version-4 UUIDs, all different, across several refills of its random pool", () => {
  const seen = new Set<string>();
  for (let index = 0; index < 1_000; index++) {
    const id = randomUuid();
    assert.match(id, UUID_V4);
    seen.add(id);
  }
  assert.equal(seen.size, 1_000);
});

test("randomUuid spreads its random bits: every hex position takes many values", () => {
  const ids = Array.from({ length: 512 }, () => randomUuid());
  for (let position = 0; position < 36; position++) {
    if ([8, 13, 14, 18, 23].includes(position)) continue; // dashes, and the version digit
    const values = new Set(ids.map((id) => id[position]));
    const expected = position === 19 ? 4 : 16; // the variant digit is one of 8, 9, a, b
    assert.equal(values.size, expected, `position ${position} took ${values.size} values`);
  }
});

test("chooseRequestId keeps a well-formed id and replaces the rest with a UUID", () => {
  assert.equal(chooseRequestId("abc-123_x="), "abc-123_x=");
  assert.match(chooseRequestId(undefined), UUID_V4);
  assert.match(chooseRequestId(""), UUID_V4);
  assert.match(chooseRequestId("has space"), UUID_V4);
  assert.match(chooseRequestId("quote\""), UUID_V4);
  assert.match(chooseRequestId("x".repeat(256)), UUID_V4);
  assert.equal(chooseRequestId("x".repeat(255)), "x".repeat(255));
});
