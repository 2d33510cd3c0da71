/**
 * The load plan for one running peer, the same for all: for GET then POST, a warm-up
 * (discarded) and a measured run at N connections with server CPU read before and after;
 * then GET and POST at 1 connection for latency (the peer is warm by then). Loads run
 * one at a time.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { PendingState } from "./admin.js";
import { readPendingSettled } from "./admin.js";
import type { ProfileSummary } from "./cpu-profile.js";
import type { CpuPerRequest, ServerProcess } from "./cpu.js";
import { cpuPerRequest, readCpuBusyMicros, snapshotCpu } from "./cpu.js";
import type { RssKiB } from "./memory.js";
import { readRss } from "./memory.js";
import type { Peer } from "./peers/peer.js";
import { LOAD_CPU, pinningEnabled, SERVER_CPU } from "./pinning.js";
import type { Method, WrkResult } from "./wrk.js";
import { errorCount, runWrk } from "./wrk.js";

export interface LoadPlan {
  wrkPath: string;
  scriptDir: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** Also run GET and POST at 1 connection. */
  latencyRun: boolean;
  /** Runs of each measured load; the median by req/s is kept. */
  repeats: number;
}

/** A measured wrk run with the server CPU it cost. */
export interface LoadResult extends WrkResult {
  cpuPerRequest: CpuPerRequest;
  /**
   * Share of the server CPU's wall time used by the peer's processes, %: near 100 means
   * the peer was CPU-bound. Undefined when unpinned.
   */
  serverCpuBusyPercent: number | undefined;
  /** Share of the server CPU used by anything else (other users of a shared machine), %. */
  otherCpuPercent: number | undefined;
  /** Share of the load CPU used by wrk, %: near 100 means wrk, not the peer, set the pace. */
  wrkCpuPercent: number | undefined;
  /** Share of the load CPU used by anything but wrk, %: a noise flag like otherCpuPercent. */
  loadCpuOtherPercent: number | undefined;
  /** With `--repeat N`: req/s of every run; the result is the median one. */
  repeatsRequestsPerSecond?: number[];
}

export interface PeerResult {
  id: string;
  label: string;
  url: string;
  processes: readonly ServerProcess[];
  loads: LoadResult[];
  /** VmHWM (peak) and VmRSS (after the loads) per process, keyed `role:name:pid`. */
  rssKiB: Record<string, RssKiB>;
  /** Peak RSS of the front process(es) and of all server processes, KiB. */
  peakRssKiB: { front: number; total: number };
  /** The gateway's pending state after the loads, from its admin API. */
  pendingAfter?: PendingState | { error: string };
  /** How each process ended on stop (the gateway should drain and exit 0). */
  stopped?: Record<string, number | string>;
  /** Where the gateway's main thread spent its time, with `--cpu-prof`. */
  cpuProfile?: ProfileSummary[];
}

function describe(peer: Peer, result: LoadResult): string {
  const ms = (us: number) => (us / 1000).toFixed(2);
  const errors = errorCount(result.errors);
  return (
    `${peer.id.padEnd(12)} ${result.method.padEnd(4)} c${String(result.connections).padEnd(3)} ` +
    `${String(result.requestsPerSecond).padStart(7)} req/s  p50 ${ms(result.latencyUs.p50)} ms  ` +
    `p99 ${ms(result.latencyUs.p99)} ms  cpu ${result.cpuPerRequest.totalUs} µs/req ` +
    `(front ${result.cpuPerRequest.frontUs})  server CPU ${result.serverCpuBusyPercent ?? "?"}% ` +
    `other ${result.otherCpuPercent ?? "?"}%  wrk CPU ${result.wrkCpuPercent ?? "?"}% ` +
    `other ${result.loadCpuOtherPercent ?? "?"}%${errors > 0 ? `  ERRORS ${JSON.stringify(result.errors)}` : ""}` +
    `\n${" ".repeat(13)}front threads µs/req: ${frontThreads(result.cpuPerRequest)}`
  );
}

/** The front process's busiest threads, e.g. `node 120, ZMQbg/IO/0 80`. */
function frontThreads(cpu: CpuPerRequest): string {
  return Object.entries(cpu.byThreadUs)
    .filter(([key]) => key.startsWith("front:"))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([key, us]) => `${key.split(":").slice(2).join(":")} ${us}`)
    .join(", ");
}

async function singleRun(
  peer: Peer,
  plan: LoadPlan,
  method: Method,
  connections: number,
): Promise<LoadResult> {
  const options = {
    wrkPath: plan.wrkPath,
    url: peer.url,
    method,
    connections,
    scriptDir: plan.scriptDir,
  };
  const before = snapshotCpu(peer.processes);
  const busyBefore = readCpuBusyMicros(SERVER_CPU);
  const loadBusyBefore = readCpuBusyMicros(LOAD_CPU);
  const startedAt = performance.now();
  const { result, wrkCpuUs } = await runWrk({ ...options, durationSeconds: plan.durationSeconds });
  const wallUs = (performance.now() - startedAt) * 1000;
  const busyUs = readCpuBusyMicros(SERVER_CPU) - busyBefore;
  const loadBusyUs = readCpuBusyMicros(LOAD_CPU) - loadBusyBefore;
  const after = snapshotCpu(peer.processes);
  let ownUs = 0;
  for (const p of peer.processes) {
    ownUs += (after.processes.get(p.pid) ?? 0) - (before.processes.get(p.pid) ?? 0);
  }
  const percent = (us: number) =>
    pinningEnabled() ? Math.round((us / wallUs) * 1000) / 10 : undefined;
  const load: LoadResult = {
    ...result,
    cpuPerRequest: cpuPerRequest(peer.processes, before, after, result.requests),
    serverCpuBusyPercent: percent(ownUs),
    otherCpuPercent: percent(Math.max(busyUs - ownUs, 0)),
    wrkCpuPercent: percent(wrkCpuUs),
    loadCpuOtherPercent: percent(Math.max(loadBusyUs - wrkCpuUs, 0)),
  };
  console.log(describe(peer, load));
  await sleep(500); // let closed connections settle before the next run
  return load;
}

/**
 * `plan.repeats` runs of one load; keeps the run with the median req/s and records the
 * req/s of all of them, so one disturbed run on a shared machine does not set the number.
 */
async function measuredRun(
  peer: Peer,
  plan: LoadPlan,
  method: Method,
  connections: number,
): Promise<LoadResult> {
  const runs: LoadResult[] = [];
  for (let i = 0; i < plan.repeats; i++)
    runs.push(await singleRun(peer, plan, method, connections));
  if (runs.length === 1 && runs[0]) return runs[0];
  return { ...medianRun(runs), repeatsRequestsPerSecond: runs.map((r) => r.requestsPerSecond) };
}

async function warmUp(peer: Peer, plan: LoadPlan, method: Method): Promise<void> {
  if (plan.warmupSeconds <= 0) return;
  const options = { wrkPath: plan.wrkPath, url: peer.url, method, scriptDir: plan.scriptDir };
  await runWrk({ ...options, connections: plan.connections, durationSeconds: plan.warmupSeconds });
  await sleep(500);
}

/** Runs the plan against a started peer; the caller stops it. */
export async function measurePeer(peer: Peer, plan: LoadPlan): Promise<PeerResult> {
  const loads: LoadResult[] = [];
  for (const method of ["GET", "POST"] as const) {
    await warmUp(peer, plan, method);
    loads.push(await measuredRun(peer, plan, method, plan.connections));
  }
  if (plan.latencyRun) {
    for (const method of ["GET", "POST"] as const)
      loads.push(await measuredRun(peer, plan, method, 1));
  }
  const rssKiB: Record<string, RssKiB> = {};
  const peakRssKiB = { front: 0, total: 0 };
  for (const p of peer.processes) {
    const rss = readRss(p.pid);
    rssKiB[`${p.role}:${p.name}:${p.pid}`] = rss;
    peakRssKiB.total += rss.peakKiB ?? 0;
    if (p.role === "front") peakRssKiB.front += rss.peakKiB ?? 0;
  }
  const result: PeerResult = {
    id: peer.id,
    label: peer.label,
    url: peer.url,
    processes: peer.processes,
    loads,
    rssKiB,
    peakRssKiB,
  };
  if (peer.adminServicesUrl) result.pendingAfter = await readPendingSettled(peer.adminServicesUrl);
  return result;
}

/** The median of `runs` by req/s (the lower middle one for an even count). */
function medianRun(runs: readonly LoadResult[]): LoadResult {
  const sorted = [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!median) throw new Error("no runs");
  return median;
}

/**
 * One result per peer from its results in several rounds (`--rounds`): per load, the
 * round whose median run is the median over the rounds, with the req/s of every run of
 * every round; peak RSS is the highest of the rounds; the rest is from the last round.
 */
export function mergeRounds(rounds: readonly PeerResult[]): PeerResult {
  const last = rounds.at(-1);
  if (!last) throw new Error("no rounds");
  if (rounds.length === 1) return last;
  const loads = last.loads.map((load) => {
    const same = rounds
      .map((round) => round.loads.find((l) => l.method === load.method && l.connections === load.connections))
      .filter((l): l is LoadResult => l !== undefined);
    return {
      ...medianRun(same),
      repeatsRequestsPerSecond: same.flatMap((l) => l.repeatsRequestsPerSecond ?? [l.requestsPerSecond]),
    };
  });
  const peakRssKiB = {
    front: Math.max(...rounds.map((round) => round.peakRssKiB.front)),
    total: Math.max(...rounds.map((round) => round.peakRssKiB.total)),
  };
  return { ...last, loads, peakRssKiB };
}
