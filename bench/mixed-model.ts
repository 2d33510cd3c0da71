/**
 * What the mixed-latency scenario would give with no overhead at all: the same request
 * sequence (fixed arrival times, the same seeded slow picks) replayed through three
 * dispatch rules with the nominal service times and nothing else. It separates what the
 * rule costs from what the implementation and the machine cost:
 *
 * - `worker-aware`: one queue, each request to the first idle worker (the gateway's
 *   connect-out dispatch with window 1, ideal);
 * - `round-robin`: request i to worker i mod 4, queued there (a plain DEALER);
 * - `capped-round-robin`: at most one request per worker in flight in total, the rest
 *   queued in front, and each request sent to the next worker in turn, busy or not
 *   (a connect-in endpoint: a bound DEALER behind the gateway's `peers x window` limit).
 */
import {
  FAST_MS,
  MIXED_SEED,
  MIXED_WORKERS,
  SLOW_MS,
  SLOW_SHARE,
  seededRandom,
} from "./mixed-plan.js";

export type DispatchRule = "worker-aware" | "round-robin" | "capped-round-robin";

export interface ModelResult {
  rule: DispatchRule;
  offeredPerSecond: number;
  /** Fast-request latency, ms. */
  fastP50Ms: number;
  fastP99Ms: number;
}

interface Arrival {
  at: number;
  serviceMs: number;
  counted: boolean;
}

function arrivals(rate: number, seconds: number, warmupSeconds: number): Arrival[] {
  const random = seededRandom(MIXED_SEED);
  const warmup = Math.round(rate * warmupSeconds);
  const total = warmup + Math.round(rate * seconds);
  return Array.from({ length: total }, (_, i) => ({
    at: (i * 1000) / rate,
    serviceMs: random() < SLOW_SHARE ? SLOW_MS : FAST_MS,
    counted: i >= warmup,
  }));
}

/** Completion time of each arrival under `rule`. */
function complete(list: readonly Arrival[], rule: DispatchRule): number[] {
  const freeAt = new Array<number>(MIXED_WORKERS).fill(0);
  if (rule !== "capped-round-robin") {
    return list.map((a, i) => {
      const k = rule === "round-robin" ? i % MIXED_WORKERS : freeAt.indexOf(Math.min(...freeAt));
      freeAt[k] = Math.max(a.at, freeAt[k] ?? 0) + a.serviceMs;
      return freeAt[k] ?? 0;
    });
  }
  // At most MIXED_WORKERS in flight: request i leaves the queue when the request
  // MIXED_WORKERS places ahead of it has completed, then waits for its worker.
  const done: number[] = [];
  const inFlightEnds: number[] = [];
  list.forEach((a, i) => {
    inFlightEnds.sort((x, y) => x - y);
    const sendAt =
      inFlightEnds.length < MIXED_WORKERS ? a.at : Math.max(a.at, inFlightEnds.shift() ?? 0);
    const k = i % MIXED_WORKERS;
    freeAt[k] = Math.max(sendAt, freeAt[k] ?? 0) + a.serviceMs;
    inFlightEnds.push(freeAt[k] ?? 0);
    done.push(freeAt[k] ?? 0);
  });
  return done;
}

/** Fast p50 and p99 of the sequence under each rule, at `rate` req/s. */
export function modelMixed(rate: number, seconds: number, warmupSeconds: number): ModelResult[] {
  const list = arrivals(rate, seconds, warmupSeconds);
  const rules: DispatchRule[] = ["worker-aware", "round-robin", "capped-round-robin"];
  return rules.map((rule) => {
    const done = complete(list, rule);
    const fast = list
      .map((a, i) => ({ a, latency: (done[i] ?? 0) - a.at }))
      .filter(({ a }) => a.counted && a.serviceMs === FAST_MS)
      .map(({ latency }) => latency)
      .sort((x, y) => x - y);
    const at = (p: number) => fast[Math.max(0, Math.ceil(p * fast.length) - 1)] ?? 0;
    const round = (ms: number) => Math.round(ms * 100) / 100;
    return { rule, offeredPerSecond: rate, fastP50Ms: round(at(0.5)), fastP99Ms: round(at(0.99)) };
  });
}
