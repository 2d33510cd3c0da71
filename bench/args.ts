/**
 * Command-line flags of `npm run bench -- [flags]`. Defaults give the full run the docs
 * report; the flags shorten it while developing. A bad flag throws BenchArgsError
 * (run.ts exits 2 with its message).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { TRANSPORTS, type BackendTransport } from "./transport.js";

/** Everything `--only` can select. */
export const SECTIONS = ["baseline", "gateway", "naive", "mongrel2", "nginx", "zmq-leg", "mixed"] as const;
export type Section = (typeof SECTIONS)[number];

export interface BenchArgs {
  /** Seconds of each measured wrk run. */
  durationSeconds: number;
  /** Seconds of the discarded wrk run before each measured one at `connections`. */
  warmupSeconds: number;
  connections: number;
  sections: ReadonlySet<Section>;
  /** Gateway window of the extra row; undefined: no extra row (the default row uses the product's default). */
  window: number | undefined;
  /** Also measure at 1 connection (the latency run). */
  latencyRun: boolean;
  /** Runs of each measured load; the median by req/s is reported. */
  repeats: number;
  /**
   * Passes over the whole peer list (each peer started afresh per pass); a load's result
   * is the median run over all passes. On a shared machine whose speed drifts over minutes,
   * this spreads the drift over every peer instead of charging it to whichever ran last.
   */
  rounds: number;
  /** Seconds of each window of the ZeroMQ-leg micro-benchmark. */
  zmqLegSeconds: number;
  /** Offered req/s of the mixed-latency scenario, one run each; undefined: 40% of capacity. */
  mixedRates: number[] | undefined;
  /** Soak mode: steady load on the gateway for this many seconds instead of the run. */
  soakSeconds: number | undefined;
  /** Keep the run's folder (configs and logs) instead of deleting it. */
  keepLogs: boolean;
  /** Where the JSON results go (default bench/results/latest.json, or soak.json). */
  out: string | undefined;
  /** Gateway entry script; default dist/src/main.js (another build, to compare). */
  gatewayMain: string | undefined;
  /** A/B mode: this build's entry script against the default (or `--gateway`), side by side. */
  abMain: string | undefined;
  /** Node/V8 flags for B only, after the gateway's own (`--ab-node-flags`; V8 takes the last value). */
  abNodeFlags: string[];
  /** Run the gateway under `node --cpu-prof` and summarize where its time went. */
  cpuProfile: boolean;
  /** Add a gateway row with tracing on, exporting to a local OTLP sink. */
  tracing: boolean;
  /** How every peer's front reaches its workers, handlers or upstreams (bench/transport.ts). */
  transport: BackendTransport;
  /** `--help`: print USAGE and exit 0. */
  help: boolean;
}

export class BenchArgsError extends Error {
  override readonly name = "BenchArgsError";
}

export const USAGE = `npm run bench -- [flags]
  --duration S      seconds per measured run (default 10)
  --warmup S        warm-up seconds before each measured run (default 3; 0 skips)
  --connections N   connections of the main runs (default 64)
  --only LIST       comma list of ${SECTIONS.join(",")} (default all)
  --window N        add a gateway row with window N (1..256) beside the one with the product's defaults
  --no-latency      skip the 1-connection latency runs
  --repeat N        run each measured load N times, report the median by req/s (default 1)
  --rounds N        go through all peers N times, each started afresh, and report the median
                    run over the rounds (default 1); drift of a shared machine then hits
                    every peer alike
  --zmq-seconds S   seconds per window of the ZeroMQ-leg micro-benchmark (default 5)
  --mixed-rate LIST comma list of offered req/s for the mixed-latency scenario, one run
                    each (default: 40% of the 4-worker pool's capacity, bench/mixed-plan.ts)
  --soak S          soak mode: steady load on the gateway for S seconds, RSS every 10 s
  --keep-logs       keep the temporary folder with configs and server logs
  --out FILE        JSON results file (default bench/results/latest.json or soak.json)
  --gateway FILE    gateway entry script (default dist/src/main.js), to compare builds
  --ab FILE         A/B mode: this gateway build (B) and the default one (A, or --gateway) at
                    once, each with its own workers and wrk, CPU 0 shared; prints B/A front
                    CPU per request for GET and POST, pair by pair (--rounds pairs, 6 if not
                    given) and the median; with --tracing both builds trace, each to
                    its own OTLP sink
  --ab-node-flags=F with --ab: node flags for B only, after the gateway's own (V8 keeps
                    the last value), e.g. --ab-node-flags=--max-semi-space-size=16 (the "="
                    is needed); --ab may then name the default build itself
  --transport T     tcp (default) or unix: every peer's back leg (gateway and naive floor
                    to their workers, Mongrel2 to its handlers, nginx to its upstreams)
                    on loopback TCP or on Unix-domain sockets (ZeroMQ ipc://), as for
                    workers on the front's own host; the HTTP leg from wrk stays TCP
  --help            this text
  --cpu-prof        profile the gateway (node --cpu-prof; slows it) into bench/results/profiles/
  --tracing         add a gateway row with tracing on, exporting every span to a local OTLP sink
                    (with --ab: trace both builds; with --soak: trace the soaked gateway)`;

/** `--ab-node-flags`: whitespace-separated `--flag[=value]`s, only beside --ab. */
function abNodeFlags(ab: string | undefined, value: string | undefined): string[] {
  if (value === undefined) return [];
  if (ab === undefined) throw new BenchArgsError("--ab-node-flags needs --ab FILE");
  const flags = value.split(/\s+/).filter(Boolean);
  const bad = flags.find((flag) => !flag.startsWith("--"));
  if (bad !== undefined) throw new BenchArgsError(`--ab-node-flags: "${bad}" is not a --flag`);
  return flags;
}

function transport(value: string | undefined): BackendTransport {
  if (value === undefined) return "tcp";
  if (!(TRANSPORTS as readonly string[]).includes(value)) {
    throw new BenchArgsError(`--transport: must be ${TRANSPORTS.join(" or ")} (got "${value}")`);
  }
  return value as BackendTransport;
}

function positive(
  name: string,
  value: string | undefined,
  fallback: number,
  min = 1,
  max = 86_400,
): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new BenchArgsError(
      `--${name}: must be a whole number from ${min} to ${max} (got "${value}")`,
    );
  }
  return number;
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        duration: { type: "string" },
        warmup: { type: "string" },
        connections: { type: "string" },
        only: { type: "string" },
        window: { type: "string" },
        "no-latency": { type: "boolean" },
        repeat: { type: "string" },
        rounds: { type: "string" },
        "zmq-seconds": { type: "string" },
        "mixed-rate": { type: "string" },
        soak: { type: "string" },
        "keep-logs": { type: "boolean" },
        out: { type: "string" },
        gateway: { type: "string" },
        ab: { type: "string" },
        "ab-node-flags": { type: "string" },
        "cpu-prof": { type: "boolean" },
        tracing: { type: "boolean" },
        transport: { type: "string" },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new BenchArgsError(`${(error as Error).message}\n${USAGE}`);
  }
  const only = values.only
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean) ?? [...SECTIONS];
  for (const name of only) {
    if (!(SECTIONS as readonly string[]).includes(name)) {
      throw new BenchArgsError(`--only: unknown "${name}" (choose from ${SECTIONS.join(", ")})`);
    }
  }
  return {
    durationSeconds: positive("duration", values.duration, 10),
    warmupSeconds: positive("warmup", values.warmup, 3, 0),
    connections: positive("connections", values.connections, 64, 1, 10_000),
    sections: new Set(only as Section[]),
    window: values.window === undefined ? undefined : positive("window", values.window, 1, 1, 256),
    latencyRun: !values["no-latency"],
    repeats: positive("repeat", values.repeat, 1, 1, 9),
    rounds: positive("rounds", values.rounds, values.ab === undefined ? 1 : 6, 1, 20),
    zmqLegSeconds: positive("zmq-seconds", values["zmq-seconds"], 5),
    mixedRates: values["mixed-rate"]
      ?.split(",")
      .map((rate) => positive("mixed-rate", rate.trim(), 0, 1, 100_000)),
    soakSeconds: values.soak === undefined ? undefined : positive("soak", values.soak, 600),
    keepLogs: values["keep-logs"] ?? false,
    out: values.out,
    gatewayMain: values.gateway === undefined ? undefined : resolve(values.gateway),
    abMain: values.ab === undefined ? undefined : resolve(values.ab),
    abNodeFlags: abNodeFlags(values.ab, values["ab-node-flags"]),
    cpuProfile: values["cpu-prof"] ?? false,
    tracing: values.tracing ?? false,
    transport: transport(values.transport),
    help: values.help ?? false,
  };
}
