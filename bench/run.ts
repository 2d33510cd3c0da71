/**
 * `npm run bench`: starts each peer in turn (hono baseline, gateway, Mongrel2, nginx, the
 * naive floor, gateway with `--window N` or tracing), runs the same wrk plan against
 * each, stops it (all of that `--rounds` times, the list backwards in even rounds; a
 * load's result is its median run over the rounds, and each gateway ratio is also paired
 * round by round, bench/rounds.ts), then
 * runs the ZeroMQ-leg micro-benchmark and the mixed-latency scenario (bench/mixed.ts),
 * and prints tables and ratios. Results go to
 * bench/results/latest.json. `--soak S` runs soak mode instead. Every process it starts
 * is stopped by PID, on success, error and Ctrl-C. Exit 0; 1 if a peer failed or a
 * soak did not drain; 2 on bad flags.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import type { BenchArgs, Section } from "./args.js";
import { BenchArgsError, parseBenchArgs, USAGE } from "./args.js";
import { runAbMode } from "./ab.js";
import { MONGREL2, NGINX, WRK, ensurePackages, requireExecutable } from "./apt.js";
import type { ProfileSummary } from "./cpu-profile.js";
import { summarizeProfile } from "./cpu-profile.js";
import type { MixedReport } from "./mixed.js";
import { runMixed } from "./mixed.js";
import { goalVerdicts, mixedPlanLines, mixedTable, modelLines } from "./mixed-report.js";
import { offeredPerSecond } from "./mixed-plan.js";
import { distFile, resultsDir } from "./paths.js";
import { pinningEnabled, SERVER_CPU } from "./pinning.js";
import { killAllSync, startProcess, tailOf, terminateAll } from "./processes.js";
import { startBaseline } from "./peers/baseline.js";
import type { GatewayOptions } from "./peers/gateway.js";
import { startGateway } from "./peers/gateway.js";
import { startMongrel2 } from "./peers/mongrel2.js";
import { startNaiveFloor } from "./peers/naive.js";
import { startNginx } from "./peers/nginx.js";
import type { Peer } from "./peers/peer.js";
import {
  computeRatios,
  isNoisy,
  latencyOverheadUs,
  loadKey,
  NOISY_PERCENT,
  ratiosTable,
  resultsTable,
  rssTable,
  zmqLegTable,
} from "./report.js";
import type { LoadPlan, PeerResult } from "./session.js";
import { measurePeer, mergeRounds } from "./session.js";
import { pairedRatios, pairedRatiosTable, roundOrder } from "./rounds.js";
import { runSoakMode } from "./soak.js";
import { describeMachine } from "./versions.js";
import { writeWrkScripts } from "./wrk.js";
import type { LegResult } from "./zmq-leg.js";

interface PeerStart {
  id: string;
  section: Section;
  start: (workDir: string) => Promise<Peer>;
}

function gatewayOptions(args: BenchArgs, window: number | undefined, id: string, tracing = false): GatewayOptions {
  const cpuProfileDir = args.cpuProfile ? `${resultsDir}/profiles/${id}-${Date.now()}` : undefined;
  return { window, main: args.gatewayMain, cpuProfileDir, tracing, transport: args.transport };
}

function peerStarts(args: BenchArgs): PeerStart[] {
  // The gateway next to the two peers its headline ratios compare it with (the baseline
  // for CPU, Mongrel2 for req/s), so that within a round each pair runs minutes apart.
  const all: PeerStart[] = [
    { id: "baseline", section: "baseline", start: startBaseline },
    {
      id: "gateway",
      section: "gateway",
      start: (dir) => startGateway(dir, gatewayOptions(args, undefined, "gateway")),
    },
    { id: "mongrel2", section: "mongrel2", start: (dir) => startMongrel2(dir, args.transport) },
    { id: "nginx", section: "nginx", start: (dir) => startNginx(dir, args.transport) },
    { id: "naive", section: "naive", start: (dir) => startNaiveFloor(dir, args.transport) },
    ...(args.window !== undefined
      ? [
          {
            id: `gateway-w${args.window}`,
            section: "gateway" as const,
            start: (dir: string) =>
              startGateway(dir, gatewayOptions(args, args.window, `gateway-w${args.window}`)),
          },
        ]
      : []),
    ...(args.tracing
      ? [
          {
            id: "gateway-traced",
            section: "gateway" as const,
            start: (dir: string) => startGateway(dir, gatewayOptions(args, undefined, "gateway-traced", true)),
          },
        ]
      : []),
  ];
  return all.filter((p) => args.sections.has(p.section));
}

function message(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? `\n  cause: ${error.cause.message}` : "";
  return `${error.message}${cause}`;
}

/** Runs the micro-benchmark as its own process, pinned to the server CPU. */
async function runZmqLeg(seconds: number, workDir: string): Promise<LegResult[]> {
  const child = startProcess({
    name: "zmq-leg",
    command: process.execPath,
    args: [distFile("bench/zmq-leg.js"), String(seconds), workDir],
    cpu: SERVER_CPU,
    logPath: `${workDir}/zmq-leg.log`,
  });
  const code = await child.exited;
  const line = tailOf(child.logPath, 10_000)
    .split("\n")
    .find((l) => l.startsWith("ZMQ_LEG "));
  if (code !== 0 || !line) throw new Error(`zmq-leg exited ${code}:\n${tailOf(child.logPath)}`);
  return (JSON.parse(line.slice("ZMQ_LEG ".length)) as { results: LegResult[] }).results;
}

/** Summarizes the .cpuprofile files in `dir` and prints the top of each. */
function printProfiles(dir: string): ProfileSummary[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  return files.map((file) => {
    const summary = summarizeProfile(`${dir}/${file}`);
    console.log(`cpu profile ${summary.file} (${summary.durationMs} ms of main thread):`);
    for (const share of summary.byBucket)
      console.log(`  ${String(share.percent).padStart(5)}%  ${share.name}`);
    console.log("  top functions (self time):");
    for (const share of summary.byFunction)
      console.log(`  ${String(share.percent).padStart(5)}%  ${share.name}`);
    return summary;
  });
}

/** One peer's measurement in one round; undefined when it failed to start or to measure. */
async function runPeerOnce(id: string, start: PeerStart["start"], plan: LoadPlan, dir: string, failures: { id: string; error: string }[]): Promise<PeerResult | undefined> {
  mkdirSync(dir, { recursive: true });
  let peer: Peer;
  try {
    peer = await start(dir);
  } catch (error) {
    failures.push({ id, error: message(error) });
    console.error(`${id}: could not start: ${message(error)}`);
    return undefined;
  }
  try {
    const result = await measurePeer(peer, plan);
    result.stopped = await peer.stop();
    if (peer.cpuProfileDir) result.cpuProfile = printProfiles(peer.cpuProfileDir);
    return result;
  } catch (error) {
    await peer.stop();
    failures.push({ id, error: message(error) });
    console.error(`${id}: failed: ${message(error)}`);
    return undefined;
  }
}

async function runPeers(args: BenchArgs, plan: LoadPlan, workDir: string) {
  const failures: { id: string; error: string }[] = [];
  // Keyed in the listed order, whatever order the rounds run them in; index r is round r + 1.
  const byRound = new Map<string, (PeerResult | undefined)[]>();
  const starts = peerStarts(args).map((peer) => ({ ...peer, results: [] as (PeerResult | undefined)[] }));
  for (const { id, results } of starts) byRound.set(id, results);
  for (let round = 1; round <= args.rounds; round++) {
    for (const { id, start, results } of roundOrder(starts, round)) {
      console.log(`\n== ${id}${args.rounds > 1 ? ` (round ${round} of ${args.rounds})` : ""}`);
      results.push(await runPeerOnce(id, start, plan, `${workDir}/${id}-${round}`, failures));
    }
  }
  const peers = [...byRound.values()]
    .map((results) => results.filter((r): r is PeerResult => r !== undefined))
    .filter((results) => results.length > 0)
    .map((results) => mergeRounds(results));
  return { peers, failures, byRound };
}

async function fullRun(args: BenchArgs, wrkPath: string, workDir: string): Promise<number> {
  const machine = describeMachine();
  const plan: LoadPlan = {
    wrkPath,
    scriptDir: workDir,
    connections: args.connections,
    durationSeconds: args.durationSeconds,
    warmupSeconds: args.warmupSeconds,
    latencyRun: args.latencyRun,
    repeats: args.repeats,
  };
  const { peers, failures, byRound } = await runPeers(args, plan, workDir);
  let zmqLeg: LegResult[] | undefined;
  if (args.sections.has("zmq-leg")) {
    console.log("\n== zmq-leg");
    try {
      zmqLeg = await runZmqLeg(args.zmqLegSeconds, workDir);
    } catch (error) {
      failures.push({ id: "zmq-leg", error: message(error) });
    }
  }
  let mixed: MixedReport | undefined;
  if (args.sections.has("mixed")) {
    mixed = await runMixed(
      {
        durationSeconds: args.durationSeconds,
        repeats: args.repeats,
        ratesPerSecond: args.mixedRates ?? [offeredPerSecond],
        gatewayMain: args.gatewayMain,
      },
      workDir,
    );
    failures.push(...mixed.failures);
  }
  const ratios = computeRatios(peers);
  const paired = args.rounds > 1 ? pairedRatios(byRound) : [];
  const latencyOverhead = latencyOverheadUs(peers);
  const out = args.out ?? `${resultsDir}/latest.json`;
  const results = {
    machine,
    args: { ...args, sections: [...args.sections] },
    peers,
    ratios,
    pairedRatios: paired,
    latencyOverheadUs: latencyOverhead,
    zmqLeg,
    mixed,
    failures,
    loadAverageAtEnd: describeMachine().loadAverage,
  };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);

  if (peers.length > 0) {
    console.log(`\nback leg: ${args.transport === "unix" ? "Unix-domain sockets (ZeroMQ ipc://, nginx unix: upstreams)" : "loopback TCP"}`);
    console.log(`\n${resultsTable(peers)}\n`);
    if (ratios.length > 0) console.log(`${ratiosTable(ratios)}\n`);
    if (paired.length > 0) console.log(`ratios paired round by round:\n${pairedRatiosTable(paired)}\n`);
    for (const [key, us] of Object.entries(latencyOverhead))
      console.log(`c1 p50 gateway - baseline, ${key}: ${us} µs`);
    console.log(`\n${rssTable(peers)}\n`);
  }
  if (zmqLeg) console.log(`${zmqLegTable(zmqLeg)}\n`);
  if (mixed && mixed.runs.length > 0) {
    console.log(`${mixedPlanLines(mixed)}\n`);
    console.log(`${mixedTable(mixed.runs)}\n`);
    console.log(`${modelLines(mixed)}\n`);
    console.log(`${goalVerdicts(mixed.runs)}\n`);
  }
  const noisy = peers.flatMap((p) => p.loads.filter(isNoisy).map((l) => `${p.id} ${loadKey(l)}`));
  if (noisy.length > 0) {
    console.warn(
      `warning: other processes took over ${NOISY_PERCENT}% of a CPU the load needed during: ${noisy.join(", ")}; rerun those on a quiet machine (--only, --repeat)`,
    );
  }
  for (const f of failures) console.error(`FAILED ${f.id}: ${f.error}`);
  console.log(`results: ${out}`);
  return failures.length > 0 ? 1 : 0;
}

async function main(): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof BenchArgsError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const soak = args.soakSeconds !== undefined;
  // Soak and A/B modes run gateways only.
  const peersToo = !soak && args.abMain === undefined;
  ensurePackages([
    WRK,
    ...(peersToo && args.sections.has("mongrel2") ? [MONGREL2] : []),
    ...(peersToo && args.sections.has("nginx") ? [NGINX] : []),
  ]);
  if (!pinningEnabled()) console.warn("warning: fewer than 2 CPUs or no taskset: running unpinned");
  const workDir = mkdtempSync(`${tmpdir()}/zmq-gateway-bench-`);
  chmodSync(workDir, 0o755); // Mongrel2 and nginx workers run as nobody and read below it
  const removeWorkDir = () => {
    if (args.keepLogs) console.log(`logs and configs kept in ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  };
  process.once("exit", removeWorkDir);
  writeWrkScripts(workDir);
  const wrkPath = requireExecutable("wrk");
  if (args.abMain !== undefined) return runAbMode(args, args.abMain, wrkPath, workDir);
  return soak
    ? runSoakMode(args, wrkPath, workDir, args.soakSeconds ?? 0)
    : fullRun(args, wrkPath, workDir);
}

// Every exit path stops what is still running, by PID: normal end, error, Ctrl-C.
process.on("exit", killAllSync);
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping every process this run started`);
    void terminateAll().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  });
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(`bench failed: ${message(error)}`);
    await terminateAll();
    process.exit(1);
  },
);
