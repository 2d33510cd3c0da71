import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Outstanding } from "../../src/services/outstanding.js";

interface Entry {
  key: number;
}

test("behaves as a key-ordered map under any sequence of adds and deletes, growing past its first capacity", () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constant("add" as const), fc.nat(200)), { maxLength: 300 }), (operations) => {
      const list = new Outstanding<Entry>(2);
      const model = new Map<number, Entry>();
      let nextKey = 1;
      for (const operation of operations) {
        if (operation === "add") {
          const entry = { key: nextKey++ };
          list.add(entry);
          model.set(entry.key, entry);
        } else {
          assert.equal(list.delete(operation), model.delete(operation));
        }
        assert.equal(list.size, model.size);
        assert.deepEqual(list.toArray(), [...model.values()], "send order is kept");
        assert.equal(list.first(), model.values().next().value);
      }
      for (const key of model.keys()) assert.equal(list.get(key), model.get(key));
      assert.equal(list.get(nextKey), undefined);
    }),
    { numRuns: 300 },
  );
});

test("refuses a key that does not grow (keys come from one increasing counter)", () => {
  const list = new Outstanding<Entry>();
  list.add({ key: 5 });
  assert.throws(() => list.add({ key: 5 }), RangeError);
  assert.throws(() => list.add({ key: 4 }), RangeError);
});

test("holds no reference to an entry once it is deleted, nor in an array it outgrew", () => {
  const list = new Outstanding<Entry>(2);
  const entries = [1, 2, 3].map((key) => ({ key }));
  const first = (list as unknown as { slots: unknown[] }).slots;
  for (const entry of entries) list.add(entry);
  assert.deepEqual(first, [undefined, undefined], "the outgrown array was cleared");
  list.delete(2);
  list.delete(3);
  const slots = (list as unknown as { slots: unknown[] }).slots;
  assert.deepEqual(slots.filter((slot) => slot !== undefined), [entries[0]]);
});
