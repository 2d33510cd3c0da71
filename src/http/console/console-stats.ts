/**
 * What the console needs besides GET /admin/services: per service, the HTTP calls answered
 * so far and how many of them were 5xx (the page derives requests/s and the error rate
 * from two reads), and p50/p99 latency over the last minute. Everything is read from the
 * metrics registry at request time (see latency-window.ts); without one, the counts come
 * from the pool counters and latency is unknown.
 */
import type { Registry } from "prom-client";
import type { Service } from "../../services/service.js";
import { LatencyWindow, type CumulativeHistogram } from "./latency-window.js";

/** The metrics this module reads (src/telemetry/metrics.ts registers them). */
export const REQUESTS_METRIC = "zmq_gateway_http_requests_total";
export const DURATION_METRIC = "zmq_gateway_http_request_duration_seconds";

export interface ServiceStats {
  name: string;
  /** HTTP calls answered since start (cumulative). */
  requests: number;
  /** Of those, answered with a 5xx status. */
  errors: number;
  /** Calls in the latency window, and their p50/p99 in milliseconds (null: none, or unknown). */
  windowRequests: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export interface ConsoleStats {
  /** Epoch milliseconds of this read: rates are deltas between two reads. */
  atMs: number;
  /** Seconds the latency window covers (about 60), null when it covers everything since start. */
  windowSeconds: number | null;
  services: ServiceStats[];
}

interface Totals {
  requests: number;
  errors: number;
}

async function readTotals(registry: Registry): Promise<Map<string, Totals> | undefined> {
  const metric = registry.getSingleMetric(REQUESTS_METRIC);
  if (!metric) return undefined;
  const totals = new Map<string, Totals>();
  for (const { labels, value } of (await metric.get()).values) {
    const service = String(labels.service);
    const entry = totals.get(service) ?? { requests: 0, errors: 0 };
    entry.requests += value;
    if (Number(labels.status) >= 500) entry.errors += value;
    totals.set(service, entry);
  }
  return totals;
}

async function readHistograms(registry: Registry): Promise<Map<string, CumulativeHistogram>> {
  const histograms = new Map<string, { boundsSeconds: number[]; counts: number[] }>();
  const metric = registry.getSingleMetric(DURATION_METRIC);
  if (!metric) return histograms;
  for (const { labels, value, metricName } of (await metric.get()).values as {
    labels: Record<string, string | number>;
    value: number;
    metricName?: string;
  }[]) {
    if (metricName !== `${DURATION_METRIC}_bucket`) continue;
    const service = String(labels.service);
    let histogram = histograms.get(service);
    if (!histogram) histograms.set(service, (histogram = { boundsSeconds: [], counts: [] }));
    histogram.boundsSeconds.push(labels.le === "+Inf" ? Infinity : Number(labels.le));
    histogram.counts.push(value);
  }
  return histograms;
}

/** The pool's own view when there is no registry: submitted, and those that failed. */
function poolTotals(service: Service): Totals {
  const c = service.pool.counters;
  const errors =
    c.rejectedNoWorker +
    c.rejectedQueueFull +
    c.rejectedFailFast +
    c.timedOutQueued +
    c.timedOutInFlight +
    c.failedLost +
    c.drainedQueued +
    c.drainedInFlight +
    service.badReplies;
  return { requests: c.submitted, errors };
}

export interface ConsoleStatsReader {
  read(services: Iterable<Service>): Promise<ConsoleStats>;
}

export function createConsoleStats(
  registry: Registry | undefined,
  window = new LatencyWindow(),
): ConsoleStatsReader {
  return {
    async read(services) {
      const nowMs = performance.now();
      const totals = registry ? await readTotals(registry) : undefined;
      const histograms = registry
        ? await readHistograms(registry)
        : new Map<string, CumulativeHistogram>();
      const spanMs = window.update(nowMs, histograms);
      return {
        atMs: Date.now(),
        windowSeconds: spanMs === null ? null : Math.round(spanMs / 100) / 10,
        services: [...services].map((service) => {
          const { requests, errors } = totals
            ? (totals.get(service.name) ?? { requests: 0, errors: 0 })
            : poolTotals(service);
          const latency = window.quantiles(
            service.name,
            histograms.get(service.name),
            [0.5, 0.99],
            nowMs,
          );
          return {
            name: service.name,
            requests,
            errors,
            windowRequests: latency.count,
            p50Ms: latency.valuesMs[0] ?? null,
            p99Ms: latency.valuesMs[1] ?? null,
          };
        }),
      };
    },
  };
}
