/**
 * HTTP request counts and latencies per service, kept in plain numbers on the hot path and
 * rendered by prom-client at scrape time (as the pool counters are).
 *
 * Why not prom-client's Counter and Histogram directly: each `inc`/`observe` with labels
 * converts, validates and hashes the label set (a cached child does too), about 4 µs per
 * request in place. Here a request costs three Map lookups (service, method class, status:
 * no key string is built) and a bucket search.
 */
import type { Metric } from "prom-client";

interface CountSeries {
  labels: { service: string; method_class: string; status: string };
  value: number;
}

interface DurationSeries {
  /** Per bucket, not cumulative; the last one is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

interface HistogramSample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** One service's tallies. Counts are keyed by method class, then status: no key string is built per request. */
interface ServiceTally {
  counts: Map<string, Map<number, CountSeries>>;
  duration: DurationSeries;
}

export class RequestTally {
  private readonly bounds: readonly number[];
  private readonly services = new Map<string, ServiceTally>();

  /** `bounds`: the histogram's upper bounds, seconds, ascending. */
  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
  }

  record(service: string, methodClass: string, status: number, seconds: number): void {
    let tally = this.services.get(service);
    if (!tally) {
      tally = { counts: new Map(), duration: this.emptyDuration() };
      this.services.set(service, tally);
    }
    let byStatus = tally.counts.get(methodClass);
    if (!byStatus) {
      byStatus = new Map();
      tally.counts.set(methodClass, byStatus);
    }
    let series = byStatus.get(status);
    if (!series) {
      series = { labels: { service, method_class: methodClass, status: String(status) }, value: 0 };
      byStatus.set(status, series);
    }
    series.value++;
    const duration = tally.duration;
    let bucket = 0;
    while (bucket < this.bounds.length && seconds > this.bounds[bucket]!) bucket++;
    duration.counts[bucket]!++;
    duration.sum += seconds;
    duration.count++;
  }

  private emptyDuration(): DurationSeries {
    return { counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
  }

  /** The request counts, for a Counter's `collect()`. */
  *countSeries(): Iterable<CountSeries> {
    for (const tally of this.services.values()) for (const byStatus of tally.counts.values()) yield* byStatus.values();
  }

  /**
   * A histogram for a prom-client Registry (`registerMetric`), read from this tally at
   * scrape time, with the exposition prom-client's own Histogram produces.
   */
  histogram(name: string, help: string): Metric {
    const read = () => {
      const values: HistogramSample[] = [];
      for (const [service, { duration: series }] of this.services) {
        if (series.count === 0) continue;
        let cumulative = 0;
        this.bounds.forEach((le, index) => {
          cumulative += series.counts[index]!;
          values.push({ metricName: `${name}_bucket`, labels: { le, service }, value: cumulative });
        });
        values.push({ metricName: `${name}_bucket`, labels: { le: "+Inf", service }, value: series.count });
        values.push({ metricName: `${name}_sum`, labels: { service }, value: series.sum });
        values.push({ metricName: `${name}_count`, labels: { service }, value: series.count });
      }
      return { name, help, type: "histogram", values, aggregator: "sum" };
    };
    const metric = {
      name,
      help,
      type: "histogram",
      aggregator: "sum",
      get: () => Promise.resolve(read()),
      reset: () => {
        for (const tally of this.services.values()) tally.duration = this.emptyDuration();
      },
    };
    return metric as unknown as Metric;
  }
}
