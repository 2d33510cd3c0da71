/**
 * Soak mode (`npm run bench -- --soak 600`): steady POST load on the gateway for N
 * seconds, its RSS sampled every 10 s, and at the end its pending state from the admin
 * API, which must read 0 in flight and 0 queued. Growth between the first and last
 * samples is what to watch for a leak. With `--tracing` the gateway traces every request,
 * exporting to a local OTLP sink.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { readPendingSettled } from "./admin.js";
import type { PendingState } from "./admin.js";
import type { CpuPerRequest } from "./cpu.js";
import { cpuPerRequest, snapshotCpu } from "./cpu.js";
import { readStatusKiB } from "./memory.js";
import type { BenchArgs } from "./args.js";
import { resultsDir } from "./paths.js";
import { startGateway } from "./peers/gateway.js";
import type { Peer } from "./peers/peer.js";
import { describeMachine } from "./versions.js";
import type { WrkResult } from "./wrk.js";
import { errorCount, runWrk } from "./wrk.js";

/** RSS sample interval, ms. */
const SAMPLE_EVERY_MS = 10_000;

export interface RssSample {
  atSeconds: number;
  gatewayKiB: number | undefined;
  workersKiB: number;
}

export interface SoakResult {
  peer: string;
  wrk: WrkResult;
  cpuPerRequest: CpuPerRequest;
  rssSamples: RssSample[];
  gatewayPeakKiB: number | undefined;
  pendingAfter: PendingState | { error: string };
  /** True when the admin API read 0 in flight and 0 queued after the load. */
  drained: boolean;
}

function sample(peer: Peer, startedAt: number): RssSample {
  let workersKiB = 0;
  let gatewayKiB: number | undefined;
  for (const p of peer.processes) {
    const rss = readStatusKiB(p.pid, "VmRSS");
    if (p.role === "front") gatewayKiB = rss;
    else workersKiB += rss ?? 0;
  }
  return { atSeconds: Math.round((Date.now() - startedAt) / 1000), gatewayKiB, workersKiB };
}

export interface SoakOptions {
  wrkPath: string;
  scriptDir: string;
  connections: number;
  seconds: number;
}

/** Soaks a started gateway peer; the caller stops it. */
export async function soakGateway(peer: Peer, options: SoakOptions): Promise<SoakResult> {
  const startedAt = Date.now();
  const samples: RssSample[] = [sample(peer, startedAt)];
  const timer = setInterval(() => {
    const s = sample(peer, startedAt);
    samples.push(s);
    console.log(
      `soak ${s.atSeconds}s: gateway RSS ${s.gatewayKiB ?? "?"} KiB, workers ${s.workersKiB} KiB`,
    );
  }, SAMPLE_EVERY_MS);
  const before = snapshotCpu(peer.processes);
  let wrk: WrkResult;
  try {
    ({ result: wrk } = await runWrk({
      wrkPath: options.wrkPath,
      url: peer.url,
      method: "POST",
      connections: options.connections,
      durationSeconds: options.seconds,
      scriptDir: options.scriptDir,
    }));
  } finally {
    clearInterval(timer);
  }
  const after = snapshotCpu(peer.processes);
  samples.push(sample(peer, startedAt));
  const pendingAfter = peer.adminServicesUrl
    ? await readPendingSettled(peer.adminServicesUrl)
    : { error: "the peer has no admin API" };
  const gatewayPid = peer.processes.find((p) => p.role === "front")?.pid;
  return {
    peer: peer.id,
    wrk,
    cpuPerRequest: cpuPerRequest(peer.processes, before, after, wrk.requests),
    rssSamples: samples,
    gatewayPeakKiB: gatewayPid === undefined ? undefined : readStatusKiB(gatewayPid, "VmHWM"),
    pendingAfter,
    drained: "inFlight" in pendingAfter && pendingAfter.inFlight === 0 && pendingAfter.queued === 0,
  };
}

/** Soak mode end to end: start the gateway, soak it, stop it, print, write soak.json. Exit code 0 only if it drained with no wrk errors. */
export async function runSoakMode(
  args: BenchArgs,
  wrkPath: string,
  workDir: string,
  seconds: number,
): Promise<number> {
  const machine = describeMachine();
  const peer = await startGateway(workDir, { window: args.window, main: args.gatewayMain, tracing: args.tracing, transport: args.transport });
  let result;
  try {
    console.log(`soaking ${peer.id} for ${seconds} s at ${args.connections} connections (POST)`);
    result = await soakGateway(peer, {
      wrkPath,
      scriptDir: workDir,
      connections: args.connections,
      seconds,
    });
  } finally {
    const stopped = await peer.stop();
    console.log(`stopped: ${JSON.stringify(stopped)}`);
  }
  const out = args.out ?? `${resultsDir}/soak.json`;
  mkdirSync(resultsDir, { recursive: true });
  // The sampler comes from the environment, as for the gateway itself (OTEL_TRACES_SAMPLER).
  const sampler = args.tracing ? { sampler: process.env.OTEL_TRACES_SAMPLER ?? "parentbased_always_on", samplerArg: process.env.OTEL_TRACES_SAMPLER_ARG } : {};
  writeFileSync(out, `${JSON.stringify({ machine, seconds, tracing: args.tracing, ...sampler, result }, null, 2)}\n`);
  const first = result.rssSamples[1] ?? result.rssSamples[0];
  const last = result.rssSamples.at(-1);
  const errors = errorCount(result.wrk.errors);
  console.log(
    `requests ${result.wrk.requests}, ${result.wrk.requestsPerSecond} req/s, errors ${errors}`,
  );
  console.log(
    `gateway RSS ${first?.gatewayKiB ?? "?"} KiB at ${first?.atSeconds ?? "?"} s -> ${last?.gatewayKiB ?? "?"} KiB at ${last?.atSeconds ?? "?"} s, peak ${result.gatewayPeakKiB ?? "?"} KiB`,
  );
  console.log(
    `pending after load: ${JSON.stringify("error" in result.pendingAfter ? result.pendingAfter : { inFlight: result.pendingAfter.inFlight, queued: result.pendingAfter.queued })}`,
  );
  console.log(result.drained ? "drained: 0 in flight, 0 queued" : "NOT DRAINED");
  console.log(`results: ${out}`);
  return result.drained && errors === 0 ? 0 : 1;
}
