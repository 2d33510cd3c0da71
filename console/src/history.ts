/**
 * What the page remembers between polls, per service: the last minute of reads of
 * GET /admin/console/stats, from which it derives requests per second (between the last
 * two reads), the error rate (over the remembered minute) and the sparkline series.
 */
import type { ConsoleStats } from "./api.js";

interface Point {
  atMs: number;
  requests: number;
  errors: number;
  p99Ms: number | null;
}

export interface ServiceTrend {
  ratePerSecond: number | null;
  errorRatio: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Requests per second between successive reads, oldest first. */
  rateSeries: number[];
  /** p99 at each read, oldest first (0 when unknown). */
  p99Series: number[];
}

const KEEP_MS = 60_000;

export class History {
  private readonly points = new Map<string, Point[]>();
  private readonly latest = new Map<string, ConsoleStats["services"][number]>();

  add(stats: ConsoleStats): void {
    for (const service of stats.services) {
      const points = this.points.get(service.name) ?? [];
      const last = points[points.length - 1];
      // A counter that went down means another gateway answered (a restart): start again.
      if (last && (service.requests < last.requests || stats.atMs <= last.atMs)) points.length = 0;
      points.push({
        atMs: stats.atMs,
        requests: service.requests,
        errors: service.errors,
        p99Ms: service.p99Ms,
      });
      while (points.length > 2 && (points[0]?.atMs ?? 0) < stats.atMs - KEEP_MS) points.shift();
      this.points.set(service.name, points);
      this.latest.set(service.name, service);
    }
  }

  trend(name: string): ServiceTrend {
    const points = this.points.get(name) ?? [];
    const latest = this.latest.get(name);
    const rateSeries: number[] = [];
    for (let i = 1; i < points.length; i++) {
      const [before, after] = [points[i - 1]!, points[i]!];
      rateSeries.push(((after.requests - before.requests) * 1000) / (after.atMs - before.atMs));
    }
    const first = points[0];
    const last = points[points.length - 1];
    const answered = first && last ? last.requests - first.requests : 0;
    return {
      ratePerSecond: rateSeries.length > 0 ? rateSeries[rateSeries.length - 1]! : null,
      errorRatio: first && last && answered > 0 ? (last.errors - first.errors) / answered : null,
      p50Ms: latest?.p50Ms ?? null,
      p99Ms: latest?.p99Ms ?? null,
      rateSeries,
      p99Series: points.map((point) => point.p99Ms ?? 0),
    };
  }
}
