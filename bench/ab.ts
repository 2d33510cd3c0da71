/**
 * A/B mode (`npm run bench -- --ab OTHER_MAIN`): two gateway builds measured in the same
 * seconds. Each runs with its two echo workers on the server CPU, and each gets its own
 * wrk on the load CPU; both loads start together. The result is B's CPU per request over
 * A's, for the gateway process (front) alone, pair by pair, and the median.
 *
 * Why: on this shared machine the speed drifts by ±25% within minutes, so two builds
 * measured one after the other differ by more than most changes to the hot path (an A/A
 * test of back-to-back runs ranged 0.84-1.23). Measured side by side, both builds see the
 * same drift: in an A/A run single pairs stay within ±3% and the median of 6 within ±1%
 * (bench/results/ab-s20-aa.json). The builds share one core, so their
 * caches meet too; read the result as a comparison of two builds, not as either one's
 * speed alone (the full run is that). Which wrk is spawned first alternates per pair.
 * With `--tracing` both builds trace every request, each exporting to its own OTLP sink.
 * With `--ab-node-flags` B runs with extra Node/V8 flags (B may then be the same build).
 * Each front's peak RSS (VmHWM) after the last pair is recorded beside the ratios.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import type { BenchArgs } from "./args.js";
import { cpuPerRequest, snapshotCpu } from "./cpu.js";
import { readStatusKiB } from "./memory.js";
import { distFile, resultsDir } from "./paths.js";
import { startGateway } from "./peers/gateway.js";
import type { Peer } from "./peers/peer.js";
import { median } from "./rounds.js";
import { describeMachine } from "./versions.js";
import type { Method } from "./wrk.js";
import { errorCount, runWrk } from "./wrk.js";

/** One pair: both builds under the same load in the same seconds. */
export interface AbPair {
  method: Method;
  /** Which build's wrk was spawned first. */
  first: "a" | "b";
  a: AbSide;
  b: AbSide;
  /** B's front CPU per request over A's: below 1, B is cheaper. */
  frontCpuRatio: number;
}

export interface AbSide {
  requests: number;
  requestsPerSecond: number;
  /** The gateway process, µs per request. */
  frontUs: number;
  /** Gateway and workers, µs per request. */
  totalUs: number;
  errors: number;
}

export interface AbSummary {
  method: Method;
  pairs: number;
  /** Per pair, in the order run. */
  frontCpuRatios: number[];
  median: number;
  min: number;
  max: number;
}

/** Median and range of B/A per load, over the pairs that served every request without error. */
export function summarizeAb(pairs: readonly AbPair[]): AbSummary[] {
  const methods = [...new Set(pairs.map((pair) => pair.method))];
  return methods.map((method) => {
    const ratios = pairs
      .filter((pair) => pair.method === method && pair.a.errors === 0 && pair.b.errors === 0)
      .map((pair) => pair.frontCpuRatio);
    return {
      method,
      pairs: ratios.length,
      frontCpuRatios: ratios,
      median: median(ratios, 3),
      min: Math.min(...ratios),
      max: Math.max(...ratios),
    };
  });
}

async function measurePair(a: Peer, b: Peer, method: Method, first: "a" | "b", args: BenchArgs, wrkPath: string, scriptDir: string): Promise<AbPair> {
  const options = (peer: Peer) => ({ wrkPath, url: peer.url, method, connections: args.connections, durationSeconds: args.durationSeconds, scriptDir });
  const before = { a: snapshotCpu(a.processes), b: snapshotCpu(b.processes) };
  const [firstRun, secondRun] = await Promise.all(first === "a" ? [runWrk(options(a)), runWrk(options(b))] : [runWrk(options(b)), runWrk(options(a))]);
  const after = { a: snapshotCpu(a.processes), b: snapshotCpu(b.processes) };
  const runs = first === "a" ? { a: firstRun.result, b: secondRun.result } : { a: secondRun.result, b: firstRun.result };
  const side = (peer: Peer, key: "a" | "b"): AbSide => {
    const run = runs[key];
    const cpu = cpuPerRequest(peer.processes, before[key], after[key], run.requests);
    return { requests: run.requests, requestsPerSecond: run.requestsPerSecond, frontUs: cpu.frontUs, totalUs: cpu.totalUs, errors: errorCount(run.errors) };
  };
  const sides = { a: side(a, "a"), b: side(b, "b") };
  return { method, first, ...sides, frontCpuRatio: Math.round((sides.b.frontUs / sides.a.frontUs) * 1000) / 1000 };
}

/** The gateway process's peak resident memory so far, MiB (one decimal); undefined if it is gone. */
function frontPeakMiB(peer: Peer): number | undefined {
  const front = peer.processes.find((process) => process.role === "front");
  const kib = front && readStatusKiB(front.pid, "VmHWM");
  return kib === undefined ? undefined : Math.round((kib / 1024) * 10) / 10;
}

/** Runs `--ab`: the default build (or `--gateway`) as A, `otherMain` as B. */
export async function runAbMode(args: BenchArgs, otherMain: string, wrkPath: string, workDir: string): Promise<number> {
  const mainA = args.gatewayMain ?? distFile("src/main.js");
  mkdirSync(`${workDir}/a`, { recursive: true });
  mkdirSync(`${workDir}/b`, { recursive: true });
  const a = await startGateway(`${workDir}/a`, { window: undefined, main: mainA, tracing: args.tracing, transport: args.transport });
  let b: Peer | undefined;
  try {
    b = await startGateway(`${workDir}/b`, { window: undefined, main: otherMain, tracing: args.tracing, extraNodeFlags: args.abNodeFlags, transport: args.transport });
    if (args.warmupSeconds > 0) {
      const warm = { ...args, durationSeconds: args.warmupSeconds };
      await measurePair(a, b, "GET", "a", warm, wrkPath, workDir);
    }
    const pairs: AbPair[] = [];
    const bFlags = args.abNodeFlags.length > 0 ? ` (node flags added: ${args.abNodeFlags.join(" ")})` : "";
    console.log(`A ${mainA}\nB ${otherMain}${bFlags}\n${args.rounds} pairs per load, ${args.durationSeconds} s each, ${args.connections} connections each${args.tracing ? ", tracing on (each exports to its own OTLP sink)" : ""}`);
    for (let round = 1; round <= args.rounds; round++) {
      for (const method of ["GET", "POST"] as const) {
        const pair = await measurePair(a, b, method, round % 2 === 1 ? "a" : "b", args, wrkPath, workDir);
        pairs.push(pair);
        console.log(
          `${method.padEnd(4)} pair ${round}: A ${pair.a.requestsPerSecond.toFixed(0)} req/s ${pair.a.frontUs} µs/req, ` +
            `B ${pair.b.requestsPerSecond.toFixed(0)} req/s ${pair.b.frontUs} µs/req: B/A CPU ${pair.frontCpuRatio}` +
            (pair.a.errors + pair.b.errors > 0 ? ` (errors: A ${pair.a.errors}, B ${pair.b.errors}; left out)` : ""),
        );
      }
    }
    const summary = summarizeAb(pairs);
    for (const s of summary) console.log(`${s.method}: B/A front CPU per request, median of ${s.pairs} pairs ${s.median} (range ${s.min}-${s.max})`);
    const peakFrontMiB = { a: frontPeakMiB(a), b: frontPeakMiB(b) };
    console.log(`front peak RSS (VmHWM): A ${peakFrontMiB.a ?? "?"} MiB, B ${peakFrontMiB.b ?? "?"} MiB`);
    const out = args.out ?? `${resultsDir}/ab.json`;
    writeFileSync(out, `${JSON.stringify({ machine: describeMachine(), a: mainA, b: otherMain, bNodeFlags: args.abNodeFlags, args: { ...args, sections: [...args.sections] }, pairs, summary, peakFrontMiB }, null, 2)}\n`);
    console.log(`results: ${out}`);
    return summary.every((s) => s.pairs > 0) ? 0 : 1;
  } finally {
    await b?.stop();
    await a.stop();
  }
}
