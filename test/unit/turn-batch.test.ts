import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TurnBatch } from "../../src/services/turn-batch.js";

describe("TurnBatch", () => {
  it("delivers nothing before the turn ends, not even after the microtasks queued behind it", async () => {
    const batch = new TurnBatch();
    const seen: number[] = [];
    batch.defer((value) => seen.push(value), 1);
    await Promise.resolve();
    await new Promise<void>((resolve) => process.nextTick(resolve));
    assert.deepEqual(seen, []);
    assert.equal(batch.size, 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, [1]);
    assert.equal(batch.size, 0);
  });

  it("delivers everything deferred in one turn together, in order, before a check-phase callback queued between them", async () => {
    const batch = new TurnBatch();
    const seen: string[] = [];
    const record = (value: string): void => {
      seen.push(value);
    };
    batch.defer(record, "a");
    const between = new Promise<void>((resolve) =>
      setImmediate(() => {
        seen.push("between");
        resolve();
      }),
    );
    batch.defer(record, "b");
    batch.defer(record, "c");
    await between;
    assert.deepEqual(seen, ["a", "b", "c", "between"]);
  });

  it("delivers each value exactly once, and one deferred during a delivery in the next turn", async () => {
    const batch = new TurnBatch();
    const seen: string[] = [];
    let nextTurn: Promise<void> | undefined;
    batch.defer((value: string) => {
      seen.push(value);
      batch.defer((later: string) => seen.push(later), "later");
      nextTurn = new Promise((resolve) => setImmediate(resolve));
    }, "first");
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, ["first"]);
    await nextTurn;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, ["first", "later"]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(seen, ["first", "later"]);
  });
});
