import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  histogramQuantile,
  LatencyWindow,
  subtractHistogram,
  type CumulativeHistogram,
} from "../../src/http/console/latency-window.js";

const BOUNDS = [0.001, 0.01, 0.1, 1, Infinity];
const histogram = (...counts: number[]): CumulativeHistogram => ({ boundsSeconds: BOUNDS, counts });

describe("latency quantiles from a cumulative histogram", () => {
  test("a quantile is interpolated inside the bucket that holds its rank", () => {
    // 100 observations: 50 up to 1 ms, 40 in (1 ms, 10 ms], 10 in (10 ms, 100 ms].
    const h = histogram(50, 90, 100, 100, 100);
    assert.equal(histogramQuantile(0.5, h), 0.001);
    assert.ok(Math.abs(histogramQuantile(0.7, h)! - 0.0055) < 1e-12);
    assert.ok(Math.abs(histogramQuantile(0.99, h)! - 0.091) < 1e-12);
  });

  test("an empty histogram has no quantile, and one past the last finite bound answers that bound", () => {
    assert.equal(histogramQuantile(0.5, histogram(0, 0, 0, 0, 0)), null);
    assert.equal(histogramQuantile(0.99, histogram(0, 0, 0, 0, 10)), 1);
  });

  test("subtracting an earlier snapshot leaves what happened since, never less than zero", () => {
    assert.deepEqual(
      subtractHistogram(histogram(5, 9, 10, 10, 10), histogram(5, 6, 6, 6, 6)).counts,
      [0, 3, 4, 4, 4],
    );
    assert.deepEqual(
      subtractHistogram(histogram(1, 1, 1, 1, 1), undefined).counts,
      [1, 1, 1, 1, 1],
    );
  });
});

describe("the latency window", () => {
  const at = (counts: number[]) => new Map([["echo", histogram(...counts)]]);

  test("the first read has no earlier snapshot and covers everything since start", () => {
    const window = new LatencyWindow({ windowMs: 60_000, minIntervalMs: 1_000 });
    assert.equal(window.update(0, at([10, 10, 10, 10, 10])), null);
    assert.deepEqual(window.quantiles("echo", histogram(10, 10, 10, 10, 10), [0.5], 0), {
      count: 10,
      valuesMs: [0.5],
    });
  });

  test("later reads see only the calls since the newest snapshot at least a window old", () => {
    const window = new LatencyWindow({ windowMs: 60_000, minIntervalMs: 1_000 });
    window.update(0, at([100, 100, 100, 100, 100])); // 100 fast calls long ago
    window.update(30_000, at([100, 100, 100, 100, 100]));
    assert.equal(window.update(61_000, at([100, 100, 110, 110, 110])), 61_000);
    // Ten slow calls (10 to 100 ms) since t=0: the old fast ones are out of the window.
    const now = histogram(100, 100, 110, 110, 110);
    assert.equal(window.quantiles("echo", now, [0.5], 61_000).count, 10);
    assert.equal(window.update(95_000, at([100, 100, 110, 110, 110])), 65_000);
    assert.equal(window.quantiles("echo", now, [0.5], 95_000).count, 10);
    assert.equal(window.update(125_000, at([100, 100, 110, 110, 110])), 64_000);
    assert.deepEqual(window.quantiles("echo", now, [0.5, 0.99], 125_000), {
      count: 0,
      valuesMs: [null, null],
    });
  });

  test("reads closer together than the minimum interval store no new snapshot", () => {
    const window = new LatencyWindow({ windowMs: 60_000, minIntervalMs: 1_000 });
    window.update(0, at([1, 1, 1, 1, 1]));
    assert.equal(window.update(500, at([2, 2, 2, 2, 2])), 500);
    assert.equal(window.update(900, at([3, 3, 3, 3, 3])), 900);
    // Still measured from t=0: the snapshot at 500 was not kept.
    assert.equal(window.quantiles("echo", histogram(3, 3, 3, 3, 3), [0.5], 900).count, 2);
  });

  test("a service that appeared after the baseline counts all its calls", () => {
    const window = new LatencyWindow();
    window.update(0, new Map());
    window.update(2_000, at([4, 4, 4, 4, 4]));
    assert.equal(window.quantiles("echo", histogram(4, 4, 4, 4, 4), [0.5], 2_000).count, 4);
    assert.deepEqual(window.quantiles("other", undefined, [0.5], 2_000), {
      count: 0,
      valuesMs: [null],
    });
  });
});
