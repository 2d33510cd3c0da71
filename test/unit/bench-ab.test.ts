import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { summarizeAb, type AbPair, type AbSide } from "../../bench/ab.js";
import { parseBenchArgs } from "../../bench/args.js";

function side(frontUs: number, errors = 0): AbSide {
  return { requests: 10_000, requestsPerSecond: 2_000, frontUs, totalUs: frontUs + 10, errors };
}

function pair(method: "GET" | "POST", a: number, b: number, errors = 0): AbPair {
  return { method, first: "a", a: side(a), b: side(b, errors), frontCpuRatio: Math.round((b / a) * 1000) / 1000 };
}

describe("bench A/B mode", () => {
  it("reports B/A per load as the median of its pairs, leaving out pairs with errors", () => {
    const summary = summarizeAb([
      pair("GET", 40, 38),
      pair("POST", 50, 50),
      pair("GET", 60, 57.6),
      pair("POST", 50, 45, 3),
      pair("GET", 44, 44.88),
      pair("GET", 50, 47.5),
    ]);
    assert.deepEqual(
      summary.map(({ method, pairs, median, min, max }) => ({ method, pairs, median, min, max })),
      [
        { method: "GET", pairs: 4, median: 0.955, min: 0.95, max: 1.02 },
        { method: "POST", pairs: 1, median: 1, min: 1, max: 1 },
      ],
    );
  });

  it("takes 6 pairs by default in A/B mode, and the other build's path made absolute", () => {
    const args = parseBenchArgs(["--ab", "build/src/main.js"]);
    assert.equal(args.rounds, 6);
    assert.ok(args.abMain?.endsWith("/build/src/main.js") && args.abMain.startsWith("/"));
    assert.equal(parseBenchArgs([]).rounds, 1);
    assert.equal(parseBenchArgs(["--ab", "x.js", "--rounds", "3"]).rounds, 3);
  });

  it("gives B extra node flags only with --ab, and refuses anything that is not a --flag", () => {
    assert.deepEqual(parseBenchArgs(["--ab", "x.js", "--ab-node-flags= --max-semi-space-size=16  --single-threaded-gc "]).abNodeFlags, [
      "--max-semi-space-size=16",
      "--single-threaded-gc",
    ]);
    assert.deepEqual(parseBenchArgs(["--ab", "x.js"]).abNodeFlags, []);
    assert.throws(() => parseBenchArgs(["--ab-node-flags=--single-threaded-gc"]), /--ab-node-flags needs --ab FILE/);
    assert.throws(() => parseBenchArgs(["--ab", "x.js", "--ab-node-flags=--a -b"]), /"-b" is not a --flag/);
  });
});
