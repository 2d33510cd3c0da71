import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pairedRatios, pairedRatiosTable, roundOrder } from "../../bench/rounds.js";
import type { LoadResult, PeerResult } from "../../bench/session.js";

/** One measured load with what the pairing reads; the rest is filler. */
function load(method: "GET" | "POST", requestsPerSecond: number, p99: number, totalUs: number, frontUs = totalUs): LoadResult {
  return {
    method,
    connections: 64,
    durationSeconds: 10,
    requests: requestsPerSecond * 10,
    requestsPerSecond,
    bytesPerResponse: 200,
    latencyUs: { mean: p99 / 2, p50: p99 / 2, p90: p99, p99, p999: p99, max: p99 },
    errors: { connect: 0, read: 0, write: 0, status: 0, timeout: 0 },
    cpuPerRequest: { totalUs, frontUs, byProcessUs: {}, byThreadUs: {} },
    serverCpuBusyPercent: 100,
    otherCpuPercent: 0,
    wrkCpuPercent: 20,
    loadCpuOtherPercent: 0,
  };
}

function peer(id: string, loads: LoadResult[]): PeerResult {
  return { id, label: id, url: "http://127.0.0.1:1/", processes: [], loads, rssKiB: {}, peakRssKiB: { front: 1, total: 1 } };
}

describe("bench rounds", () => {
  it("runs the list forward in odd rounds and backward in even ones", () => {
    assert.deepEqual(roundOrder(["a", "b", "c"], 1), ["a", "b", "c"]);
    assert.deepEqual(roundOrder(["a", "b", "c"], 2), ["c", "b", "a"]);
    assert.deepEqual(roundOrder(["a", "b", "c"], 3), ["a", "b", "c"]);
  });

  it("pairs each round's gateway run with the other peer's run of the same round, not medians of different rounds", () => {
    // A slow second round hits both peers; the ratio of medians (100 / 100) would say 1.0.
    const byRound = new Map([
      ["gateway", [peer("gateway", [load("GET", 100, 4000, 60, 45)]), peer("gateway", [load("GET", 45, 8000, 120, 90)]), peer("gateway", [load("GET", 200, 2000, 30, 22)])]],
      ["mongrel2", [peer("mongrel2", [load("GET", 50, 8000, 120, 60)]), peer("mongrel2", [load("GET", 100, 4000, 60, 30)]), peer("mongrel2", [load("GET", 100, 4000, 60, 30)])]],
    ]);
    const [ratio, ...rest] = pairedRatios(byRound);
    assert.equal(rest.length, 0);
    assert.ok(ratio);
    assert.equal(ratio.gateway, "gateway");
    assert.equal(ratio.other, "mongrel2");
    assert.equal(ratio.load, "GET c64");
    assert.deepEqual(ratio.requestsPerSecond, { perRound: [2, 0.45, 2], median: 2 });
    assert.deepEqual(ratio.p99, { perRound: [0.5, 2, 0.5], median: 0.5 });
    assert.deepEqual(ratio.cpuPerRequest, { perRound: [0.5, 2, 0.5], median: 0.5 });
    assert.deepEqual(ratio.frontCpuPerRequest, { perRound: [0.75, 3, 0.73], median: 0.75 });
  });

  it("leaves a round out where either peer has no result, and takes the mean of the middle two for an even count", () => {
    const byRound = new Map<string, (PeerResult | undefined)[]>([
      ["gateway", [peer("gateway", [load("POST", 120, 1, 1)]), peer("gateway", [load("POST", 150, 1, 1)]), peer("gateway", [load("POST", 90, 1, 1)])]],
      ["baseline", [peer("baseline", [load("POST", 100, 1, 1)]), undefined, peer("baseline", [load("POST", 100, 1, 1)])]],
      ["nginx", [undefined, undefined, undefined]],
    ]);
    const paired = pairedRatios(byRound);
    assert.equal(paired.length, 1, "no row for a peer with no result in any round");
    assert.deepEqual(paired[0]?.requestsPerSecond, { perRound: [1.2, null, 0.9], median: 1.05 });
    assert.match(pairedRatiosTable(paired), /\| gateway \/ baseline \| POST c64 \| 1\.2 \/ - \/ 0\.9 → \*\*1\.05\*\* \|/);
  });

  it("compares only loads both peers measured", () => {
    const byRound = new Map([
      ["gateway", [peer("gateway", [load("GET", 100, 1, 1), load("POST", 100, 1, 1)])]],
      ["mongrel2", [peer("mongrel2", [load("GET", 100, 1, 1)])]],
    ]);
    assert.deepEqual(
      pairedRatios(byRound).map((p) => p.load),
      ["GET c64"],
    );
  });
});
