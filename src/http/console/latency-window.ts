/**
 * Latency quantiles over the last minute, per service, from the cumulative latency
 * histogram the metrics already keep: the hot path pays nothing more. Each read stores
 * a snapshot of the cumulative bucket counts (at most one per `minIntervalMs`); the
 * quantiles of a window are those of the difference between now and the newest snapshot
 * taken at least `windowMs` ago, interpolated within a bucket as Prometheus'
 * histogram_quantile() does. Snapshots are taken only while someone reads (the console
 * polls), so nothing runs when no one looks; the first read has no earlier snapshot and
 * covers everything since start.
 */

/** A cumulative histogram: `counts[i]` observations were <= `boundsSeconds[i]`; the last bound is +Infinity. */
export interface CumulativeHistogram {
  boundsSeconds: readonly number[];
  counts: readonly number[];
}

export interface WindowQuantiles {
  /** Observations in the window. */
  count: number;
  /** Quantile values in milliseconds, in the order asked; null when the window is empty. */
  valuesMs: (number | null)[];
}

interface Snapshot {
  atMs: number;
  histograms: ReadonlyMap<string, CumulativeHistogram>;
}

/** The q-quantile (0..1) of a cumulative histogram, in seconds; null when it is empty. */
export function histogramQuantile(q: number, histogram: CumulativeHistogram): number | null {
  const { boundsSeconds: bounds, counts } = histogram;
  const total = counts[counts.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i] ?? 0;
    if (count < rank) continue;
    const upper = bounds[i] ?? Infinity;
    const lower = i === 0 ? 0 : (bounds[i - 1] ?? 0);
    // Past the last finite bound there is nothing to interpolate: answer that bound.
    if (upper === Infinity) return lower;
    const below = i === 0 ? 0 : (counts[i - 1] ?? 0);
    const inBucket = count - below;
    return inBucket <= 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
  }
  return bounds[bounds.length - 2] ?? null;
}

/** `now - before`, bucket by bucket (never negative); `before` may be missing (a new service). */
export function subtractHistogram(
  now: CumulativeHistogram,
  before: CumulativeHistogram | undefined,
): CumulativeHistogram {
  if (!before || before.counts.length !== now.counts.length) return now;
  return {
    boundsSeconds: now.boundsSeconds,
    counts: now.counts.map((count, i) => Math.max(0, count - (before.counts[i] ?? 0))),
  };
}

export class LatencyWindow {
  readonly windowMs: number;
  private readonly minIntervalMs: number;
  private readonly snapshots: Snapshot[] = [];

  constructor({ windowMs = 60_000, minIntervalMs = 1_000 } = {}) {
    this.windowMs = windowMs;
    this.minIntervalMs = minIntervalMs;
  }

  /**
   * Records the histograms read at `nowMs` (epoch or monotonic, the caller's choice, but
   * always the same clock) and returns the span the window covers now, in milliseconds:
   * null when there is no earlier snapshot (the window is "since start").
   */
  update(nowMs: number, histograms: ReadonlyMap<string, CumulativeHistogram>): number | null {
    const last = this.snapshots[this.snapshots.length - 1];
    if (!last || nowMs - last.atMs >= this.minIntervalMs)
      this.snapshots.push({ atMs: nowMs, histograms });
    // Keep one snapshot at or before the window's start (the baseline), and all after it.
    const start = nowMs - this.windowMs;
    while (this.snapshots.length > 1 && (this.snapshots[1]?.atMs ?? Infinity) <= start)
      this.snapshots.shift();
    const baseline = this.baseline(nowMs);
    return baseline ? nowMs - baseline.atMs : null;
  }

  /** Quantiles `qs` of `key`'s observations between the baseline and `current`. */
  quantiles(
    key: string,
    current: CumulativeHistogram | undefined,
    qs: readonly number[],
    nowMs: number,
  ): WindowQuantiles {
    if (!current) return { count: 0, valuesMs: qs.map(() => null) };
    const window = subtractHistogram(current, this.baseline(nowMs)?.histograms.get(key));
    const count = window.counts[window.counts.length - 1] ?? 0;
    return {
      count,
      valuesMs: qs.map((q) => {
        const seconds = histogramQuantile(q, window);
        return seconds === null ? null : Math.round(seconds * 1_000_000) / 1_000;
      }),
    };
  }

  /** The oldest kept snapshot taken before `nowMs`, if any. */
  private baseline(nowMs: number): Snapshot | undefined {
    const oldest = this.snapshots[0];
    return oldest && oldest.atMs < nowMs ? oldest : undefined;
  }
}
