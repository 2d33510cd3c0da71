/**
 * An open-loop HTTP load generator, for the mixed-latency scenario (wrk2 is not in
 * Debian). Request i is due at start + i / RATE whatever happened to earlier requests,
 * and its latency is counted from that due time, not from when it was sent: a server
 * that stalls is charged for every request that should have gone out meanwhile, so
 * coordinated omission cannot hide its stalls (wrk2's correction). Keep-alive
 * connections from node:http, as many as the requests in flight need. To send on time
 * despite Node's 1 ms timer granularity, it sleeps on a timer until about 1 ms before
 * the next due time and spins on setImmediate (which still serves replies) for the rest;
 * how late each request still went out is reported (`sendLagUs`), and fast latencies are
 * also given from the actual send (`fastFromSend`) to show the client's own share.
 *
 *   taskset -c 1 node dist/bench/open-loop.js URL RATE SECONDS WARMUP_SECONDS
 *
 * Each request POSTs `slow:i` (1% of them, picked by the seeded generator of
 * mixed-plan.ts) or `fast:i`, and must get its own body back. The first WARMUP_SECONDS
 * of requests are sent but not counted. Prints one line, `OPEN_LOOP {...}`, with
 * percentiles of fast and slow requests separately, in µs.
 */
import { Agent, request } from "node:http";
import { performance } from "node:perf_hooks";
import { MIXED_SEED, requestBody, seededRandom, SLOW_SHARE } from "./mixed-plan.js";

/** Percentiles of one kind of request, µs (nearest rank). */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface OpenLoopResult {
  url: string;
  offeredPerSecond: number;
  durationSeconds: number;
  /** Counted requests that got their body back with a 200, per second of the run. */
  completedPerSecond: number;
  fast: LatencySummary;
  slow: LatencySummary;
  /** Fast requests again, counted from when each was sent rather than due. */
  fastFromSend: LatencySummary;
  /** How late the client itself sent requests after their due time, µs. */
  sendLagUs: { p50: number; p99: number; max: number };
  /** Most requests in flight at once. */
  maxInFlight: number;
  /** Counted requests that failed, by reason. */
  errors: Record<string, number>;
  /** CPU of this process over the run, % of one core: near 100 means the client lagged. */
  clientCpuPercent: number;
}

interface Sample {
  slow: boolean;
  /** From the due time. */
  latencyUs: number;
  /** From the due time to the send. */
  lagUs: number;
  error: string | undefined;
}

/** Gives up on a request after this long (it counts as an error). */
const REQUEST_TIMEOUT_MS = 15_000;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return Math.round(sorted[rank - 1] ?? 0);
}

function summarize(latencies: number[]): LatencySummary {
  const sorted = latencies.sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: Math.round(sorted.at(-1) ?? 0),
  };
}

const [url = "", rateText = "", secondsText = "", warmupText = "0"] = process.argv.slice(2);
const rate = Number(rateText);
const seconds = Number(secondsText);
const warmupSeconds = Number(warmupText);
if (!url || !(rate > 0) || !(seconds > 0) || !(warmupSeconds >= 0)) {
  console.error("usage: node dist/bench/open-loop.js URL RATE SECONDS WARMUP_SECONDS");
  process.exit(2);
}

const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1_024 });
const intervalMs = 1000 / rate;
const warmupCount = Math.round(rate * warmupSeconds);
const total = warmupCount + Math.round(rate * seconds);
const random = seededRandom(MIXED_SEED);
const samples: Promise<Sample>[] = [];
let inFlight = 0;
let maxInFlight = 0;

function fire(index: number, dueAt: number): Promise<Sample> {
  const slow = random() < SLOW_SHARE;
  const body = Buffer.from(requestBody(index, slow));
  const lagUs = (performance.now() - dueAt) * 1000;
  maxInFlight = Math.max(maxInFlight, ++inFlight);
  return new Promise<Sample>((resolve) => {
    const finish = (error: string | undefined) => {
      inFlight--;
      resolve({ slow, latencyUs: (performance.now() - dueAt) * 1000, lagUs, error });
    };
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: { "content-type": "text/plain", "content-length": body.length },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          if (response.statusCode !== 200) finish(`status ${response.statusCode}`);
          else finish(Buffer.concat(chunks).equals(body) ? undefined : "wrong body");
        });
        response.on("error", (error) => finish(error.message));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error) => finish(error.message));
    req.end(body);
  });
}

/** A timer is never earlier than asked, but often up to ~1 ms late: wake this much early. */
const TIMER_SLACK_MS = 1.5;
const startedAt = performance.now() + 20;
const cpuBefore = process.cpuUsage();
let next = 0;
await new Promise<void>((done) => {
  const tick = () => {
    const now = performance.now();
    for (; next < total && startedAt + next * intervalMs <= now; next++) {
      samples.push(fire(next, startedAt + next * intervalMs));
    }
    if (next >= total) return done();
    const waitMs = startedAt + next * intervalMs - performance.now();
    if (waitMs > TIMER_SLACK_MS) setTimeout(tick, Math.floor(waitMs - TIMER_SLACK_MS));
    else setImmediate(tick);
  };
  setTimeout(tick, 20);
});
const results = (await Promise.all(samples)).slice(warmupCount);
const cpu = process.cpuUsage(cpuBefore);
const wallMs = performance.now() - startedAt;
agent.destroy();

const errors: Record<string, number> = {};
for (const sample of results) {
  if (sample.error !== undefined) errors[sample.error] = (errors[sample.error] ?? 0) + 1;
}
const ok = results.filter((sample) => sample.error === undefined);
const lags = summarize(results.map((sample) => sample.lagUs));
const result: OpenLoopResult = {
  url,
  offeredPerSecond: rate,
  durationSeconds: seconds,
  completedPerSecond: Math.round(ok.length / seconds),
  fast: summarize(ok.filter((sample) => !sample.slow).map((sample) => sample.latencyUs)),
  fastFromSend: summarize(
    ok.filter((sample) => !sample.slow).map((sample) => sample.latencyUs - sample.lagUs),
  ),
  slow: summarize(ok.filter((sample) => sample.slow).map((sample) => sample.latencyUs)),
  sendLagUs: { p50: lags.p50, p99: lags.p99, max: lags.max },
  maxInFlight,
  errors,
  clientCpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wallMs) * 1000) / 10,
};
console.log(`OPEN_LOOP ${JSON.stringify(result)}`);
