/**
 * The mixed-latency scenario (`npm run bench -- --only mixed`): the same open-loop load
 * (bench/open-loop.ts, a fixed rate, 1% slow requests) against three setups in turn
 * (bench/peers/mixed.ts): a naive DEALER round-robin, the gateway connecting out with
 * worker-aware dispatch, and the gateway with connect-in workers. What counts is the
 * latency of the FAST requests: with blind round-robin they wait behind slow ones.
 * The goal from the dispatch issue: with worker-aware dispatch, fast p99 <= 3 x fast p50.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { PendingState } from "./admin.js";
import { readPendingSettled } from "./admin.js";
import { readCpuBusyMicros, snapshotCpu } from "./cpu.js";
import type { ModelResult } from "./mixed-model.js";
import { modelMixed } from "./mixed-model.js";
import { describeRun } from "./mixed-report.js";
import * as plan from "./mixed-plan.js";
import type { OpenLoopResult } from "./open-loop.js";
import { distFile } from "./paths.js";
import type { MixedSetupId } from "./peers/mixed.js";
import { startMixedGateway, startNaive } from "./peers/mixed.js";
import type { Peer } from "./peers/peer.js";
import { LOAD_CPU, pinningEnabled, SERVER_CPU } from "./pinning.js";
import { startProcess, tailOf } from "./processes.js";
import { NOISY_PERCENT } from "./report.js";

/** Seconds of load at the same rate before each measured run, not counted. */
const WARMUP_SECONDS = 2;

export interface MixedOptions {
  durationSeconds: number;
  repeats: number;
  /** Offered req/s, one measured run (or `repeats`) per rate and setup. */
  ratesPerSecond: readonly number[];
  gatewayMain: string | undefined;
}

/** One setup at one rate. */
export interface MixedResult {
  id: MixedSetupId;
  label: string;
  load: OpenLoopResult;
  /** Server CPU (all the setup's processes) per request, warm-up included, µs. */
  cpuUsPerRequest: number;
  /** Fast p99 / fast p50. */
  fastP99OverP50: number;
  withinGoal: boolean;
  /** Share of the server CPU used by the setup's processes, and by anything else, %. */
  serverCpuBusyPercent: number | undefined;
  otherCpuPercent: number | undefined;
  /** Share of the client's CPU used by anything but the client, % (approximate). */
  loadCpuOtherPercent: number | undefined;
  /** Other processes took over NOISY_PERCENT of the server or the client CPU. */
  noisy: boolean;
  /** With `--repeat N`: fast p99 (µs) of every run; the result is the median one. */
  repeatsFastP99Us?: number[];
  pendingAfter?: PendingState | { error: string };
  stopped?: Record<string, number | string>;
}

export interface MixedReport {
  plan: Record<string, unknown>;
  runs: MixedResult[];
  /** The same sequences with no overhead, per dispatch rule (bench/mixed-model.ts). */
  model: ModelResult[];
  failures: { id: string; error: string }[];
}

async function runClient(peer: Peer, rate: number, seconds: number, workDir: string) {
  const child = startProcess({
    name: `open-loop-${peer.id}-${rate}`,
    command: process.execPath,
    args: [
      distFile("bench/open-loop.js"),
      peer.url,
      String(rate),
      String(seconds),
      String(WARMUP_SECONDS),
    ],
    cpu: LOAD_CPU,
    logPath: `${workDir}/open-loop-${peer.id}-${rate}.log`,
  });
  const code = await child.exited;
  const line = tailOf(child.logPath, 20_000)
    .split("\n")
    .find((l) => l.startsWith("OPEN_LOOP "));
  if (code !== 0 || !line) throw new Error(`open-loop exited ${code}:\n${tailOf(child.logPath)}`);
  return JSON.parse(line.slice("OPEN_LOOP ".length)) as OpenLoopResult;
}

async function measureOnce(peer: Peer, rate: number, options: MixedOptions, workDir: string) {
  const before = snapshotCpu(peer.processes);
  const busyBefore = readCpuBusyMicros(SERVER_CPU);
  const loadBusyBefore = readCpuBusyMicros(LOAD_CPU);
  const startedAt = performance.now();
  const load = await runClient(peer, rate, options.durationSeconds, workDir);
  const wallUs = (performance.now() - startedAt) * 1000;
  const busyUs = readCpuBusyMicros(SERVER_CPU) - busyBefore;
  const loadBusyUs = readCpuBusyMicros(LOAD_CPU) - loadBusyBefore;
  const after = snapshotCpu(peer.processes);
  let ownUs = 0;
  for (const p of peer.processes)
    ownUs += (after.processes.get(p.pid) ?? 0) - (before.processes.get(p.pid) ?? 0);
  const percent = (us: number) =>
    pinningEnabled() ? Math.round((us / wallUs) * 1000) / 10 : undefined;
  const ratio = load.fast.p50 > 0 ? load.fast.p99 / load.fast.p50 : Number.NaN;
  const otherCpuPercent = percent(Math.max(busyUs - ownUs, 0));
  const loadBusy = percent(loadBusyUs);
  const loadCpuOtherPercent =
    loadBusy === undefined
      ? undefined
      : Math.max(0, Math.round((loadBusy - load.clientCpuPercent) * 10) / 10);
  const result: MixedResult = {
    id: peer.id as MixedSetupId,
    label: peer.label,
    load,
    cpuUsPerRequest: Math.round(ownUs / (rate * (options.durationSeconds + WARMUP_SECONDS))),
    fastP99OverP50: Math.round(ratio * 100) / 100,
    withinGoal: ratio <= plan.GOAL_RATIO,
    serverCpuBusyPercent: percent(ownUs),
    otherCpuPercent,
    loadCpuOtherPercent,
    noisy: (otherCpuPercent ?? 0) > NOISY_PERCENT || (loadCpuOtherPercent ?? 0) > NOISY_PERCENT,
  };
  console.log(describeRun(result));
  await sleep(500);
  return result;
}

/** `options.repeats` runs at one rate; keeps the median by fast p99. */
async function measureRate(peer: Peer, rate: number, options: MixedOptions, workDir: string) {
  const runs: MixedResult[] = [];
  for (let i = 0; i < options.repeats; i++)
    runs.push(await measureOnce(peer, rate, options, workDir));
  const sorted = [...runs].sort((a, b) => a.load.fast.p99 - b.load.fast.p99);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!median) throw new Error("no runs");
  if (runs.length === 1) return median;
  return { ...median, repeatsFastP99Us: runs.map((r) => r.load.fast.p99) };
}

/**
 * Runs the three setups one after the other, each at every rate; a setup that fails is
 * reported, not fatal. The gateway's pending state and exit are checked after its loads.
 */
export async function runMixed(options: MixedOptions, workDir: string): Promise<MixedReport> {
  const starts: [MixedSetupId, () => Promise<Peer>][] = [
    ["naive", () => startNaive(workDir)],
    ["gateway-out", () => startMixedGateway(workDir, false, options.gatewayMain)],
    ["gateway-in", () => startMixedGateway(workDir, true, options.gatewayMain)],
  ];
  const runs: MixedResult[] = [];
  const failures: { id: string; error: string }[] = [];
  for (const [id, start] of starts) {
    console.log(`\n== mixed ${id}`);
    let peer: Peer | undefined;
    try {
      peer = await start();
      const results: MixedResult[] = [];
      for (const rate of options.ratesPerSecond)
        results.push(await measureRate(peer, rate, options, workDir));
      const pendingAfter = peer.adminServicesUrl
        ? await readPendingSettled(peer.adminServicesUrl)
        : undefined;
      const stopped = await peer.stop();
      for (const result of results) runs.push({ ...result, pendingAfter, stopped });
    } catch (error) {
      if (peer) await peer.stop();
      const text = error instanceof Error ? error.message : String(error);
      failures.push({ id: `mixed ${id}`, error: text });
      console.error(`mixed ${id}: failed: ${text}`);
    }
  }
  return {
    plan: {
      workers: plan.MIXED_WORKERS,
      fastMs: plan.FAST_MS,
      slowMs: plan.SLOW_MS,
      slowShare: plan.SLOW_SHARE,
      meanServiceMs: Math.round(plan.meanServiceMs * 1000) / 1000,
      capacityPerSecond: Math.round(plan.capacityPerSecond),
      rates: options.ratesPerSecond.map((rate) => ({
        offeredPerSecond: rate,
        utilization: Math.round((rate / plan.capacityPerSecond) * 1000) / 1000,
        allWorkersSlowShare: Math.round(plan.allWorkersSlowShare(rate) * 100_000) / 100_000,
      })),
      durationSeconds: options.durationSeconds,
      warmupSeconds: WARMUP_SECONDS,
      seed: plan.MIXED_SEED,
      goal: `fast p99 <= ${plan.GOAL_RATIO} x fast p50 with worker-aware dispatch (gateway-out)`,
    },
    runs,
    model: options.ratesPerSecond.flatMap((rate) =>
      modelMixed(rate, options.durationSeconds, WARMUP_SECONDS),
    ),
    failures,
  };
}
