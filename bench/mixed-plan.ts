/**
 * The numbers of the mixed-latency scenario, in one place: 4 REP workers whose reply
 * takes SLOW_MS for SLOW_SHARE of the requests and FAST_MS for the rest, and an offered
 * rate fixed at UTILIZATION of what the pool can serve. The offered rate is derived
 * here from those numbers, not typed in:
 *
 *   mean service time = 0.99 x 1 ms + 0.01 x 200 ms = 2.99 ms
 *   capacity          = 4 workers / 2.99 ms       = 1,338 req/s
 *   offered           = 40% of that               =   535 req/s
 *
 * With 1% slow at 200 ms, slow requests alone keep 535 x 0.01 x 0.2 = 1.07 workers busy
 * on average, and all 4 workers hold a slow request about 2.4% of the time (Poisson
 * tail, allWorkersSlowShare): then no dispatcher that cannot preempt a worker has one
 * left for a fast request, so the fast p99 reflects that share. `--mixed-rate` runs
 * other rates (the dispatch issue's 160 req/s: 0.03%).
 *
 * The slow requests are picked by a seeded generator, so every setup in a run (and
 * every run) gets the same sequence of fast and slow requests.
 */

/** REP workers behind each setup. */
export const MIXED_WORKERS = 4;
/** Service time of a fast request, ms. */
export const FAST_MS = 1;
/** Service time of a slow request, ms. */
export const SLOW_MS = 200;
/** Share of requests that are slow. */
export const SLOW_SHARE = 0.01;
/** Offered load as a share of the pool's capacity. */
export const UTILIZATION = 0.4;
/** Seed of the fast/slow sequence. */
export const MIXED_SEED = 20_261_127;
/** The dispatch issue's goal: fast p99 at most this many times fast p50. */
export const GOAL_RATIO = 3;
/** Route of the scenario's service (`mixed`) on every setup. */
export const MIXED_PATH = "/v1/mixed";
/** A request body that starts with these bytes is slow. */
export const SLOW_MARK = Buffer.from("slow");

/** Mean service time of one request, ms. */
export const meanServiceMs = (1 - SLOW_SHARE) * FAST_MS + SLOW_SHARE * SLOW_MS;

/** What the pool can serve with every worker always busy, req/s. */
export const capacityPerSecond = (MIXED_WORKERS * 1000) / meanServiceMs;

/** The fixed offered rate, req/s. */
export const offeredPerSecond = Math.round(UTILIZATION * capacityPerSecond);

/**
 * Share of time during which every worker holds a slow request at `ratePerSecond`, if
 * slow requests arrive at random (Poisson) and are never queued: P(N >= workers) for
 * N ~ Poisson(rate x SLOW_SHARE x SLOW_MS). A fast-request percentile above 1 minus this
 * share can be met by no dispatcher.
 */
export function allWorkersSlowShare(ratePerSecond: number): number {
  const busy = (ratePerSecond * SLOW_SHARE * SLOW_MS) / 1000;
  let term = Math.exp(-busy);
  let below = 0;
  for (let k = 0; k < MIXED_WORKERS; k++) {
    below += term;
    term *= busy / (k + 1);
  }
  return 1 - below;
}

/** The body of request `index`: `slow:INDEX` or `fast:INDEX`, echoed back by the worker. */
export function requestBody(index: number, slow: boolean): string {
  return `${slow ? "slow" : "fast"}:${index}`;
}

/** mulberry32: a small seeded generator of numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
