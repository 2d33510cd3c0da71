/**
 * Turns peer results into ratios and Markdown tables (printed, and pasteable into
 * docs/benchmarks.md). Ratios are gateway / other: above 1 means the gateway has more of
 * it (more req/s is better; more latency or CPU is worse).
 */
import type { LegResult } from "./zmq-leg.js";
import type { LoadResult, PeerResult } from "./session.js";
import { errorCount } from "./wrk.js";

/** One comparison: a gateway row against another peer, for one kind of load. */
export interface Ratio {
  gateway: string;
  other: string;
  load: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  cpuPerRequest: number;
}

/** Above this share of a CPU used by other processes, a load counts as disturbed. */
export const NOISY_PERCENT = 5;

/**
 * Whether other processes may have moved a load's numbers: they took more than
 * NOISY_PERCENT of the server CPU; or of the wrk CPU when wrk may have had to wait for
 * it (wrk + others near 100%), when the server was not CPU-bound (under 95% busy: then
 * wrk, waiting for its CPU, may have set the pace), or when the run measures latency at
 * 1 connection, where wrk's own wake-ups are part of every request.
 */
export function isNoisy(load: LoadResult): boolean {
  const server = load.otherCpuPercent ?? 0;
  const wrkOther = load.loadCpuOtherPercent ?? 0;
  const wrkStarved = (load.wrkCpuPercent ?? 0) + wrkOther > 90;
  const serverIdle = (load.serverCpuBusyPercent ?? 100) < 95;
  return (
    server > NOISY_PERCENT ||
    (wrkOther > NOISY_PERCENT && (wrkStarved || serverIdle || load.connections === 1))
  );
}

/** A load's key, e.g. `GET c64`. */
export function loadKey(load: Pick<LoadResult, "method" | "connections">): string {
  return `${load.method} c${load.connections}`;
}

/** The peers each gateway row is compared with. */
export const COMPARED_PEERS: readonly string[] = ["baseline", "naive", "mongrel2", "nginx"];

/** a / b rounded to 0.01; NaN when b is 0. */
export function ratio(a: number, b: number): number {
  return b === 0 ? Number.NaN : Math.round((a / b) * 100) / 100;
}

export function computeRatios(peers: readonly PeerResult[]): Ratio[] {
  const ratios: Ratio[] = [];
  const gateways = peers.filter((p) => p.id.startsWith("gateway"));
  const others = peers.filter((p) => COMPARED_PEERS.includes(p.id));
  for (const gateway of gateways) {
    for (const other of others) {
      for (const load of gateway.loads) {
        const match = other.loads.find((o) => loadKey(o) === loadKey(load));
        if (!match) continue;
        ratios.push({
          gateway: gateway.id,
          other: other.id,
          load: loadKey(load),
          requestsPerSecond: ratio(load.requestsPerSecond, match.requestsPerSecond),
          p50: ratio(load.latencyUs.p50, match.latencyUs.p50),
          p99: ratio(load.latencyUs.p99, match.latencyUs.p99),
          cpuPerRequest: ratio(load.cpuPerRequest.totalUs, match.cpuPerRequest.totalUs),
        });
      }
    }
  }
  return ratios;
}

/** Gateway p50 minus baseline p50 at one connection, µs, per method and gateway row. */
export function latencyOverheadUs(peers: readonly PeerResult[]): Record<string, number> {
  const baseline = peers.find((p) => p.id === "baseline");
  const overhead: Record<string, number> = {};
  if (!baseline) return overhead;
  for (const gateway of peers.filter((p) => p.id.startsWith("gateway"))) {
    for (const load of gateway.loads.filter((l) => l.connections === 1)) {
      const base = baseline.loads.find((b) => loadKey(b) === loadKey(load));
      if (base) overhead[`${gateway.id} ${load.method}`] = load.latencyUs.p50 - base.latencyUs.p50;
    }
  }
  return overhead;
}

function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

const ms = (us: number) => (us / 1000).toFixed(2);

export function resultsTable(peers: readonly PeerResult[]): string {
  const rows = peers.flatMap((peer) =>
    peer.loads.map((load) => {
      const errors = errorCount(load.errors);
      return [
        peer.label,
        loadKey(load),
        load.requestsPerSecond,
        ms(load.latencyUs.p50),
        ms(load.latencyUs.p99),
        load.cpuPerRequest.totalUs.toFixed(1),
        load.cpuPerRequest.frontUs.toFixed(1),
        load.serverCpuBusyPercent ?? "-",
        load.otherCpuPercent ?? "-",
        load.wrkCpuPercent ?? "-",
        load.loadCpuOtherPercent ?? "-",
        load.bytesPerResponse,
        errors,
        isNoisy(load) ? "noisy" : "",
      ];
    }),
  );
  const header = [
    "peer",
    "load",
    "req/s",
    "p50 ms",
    "p99 ms",
    "CPU µs/req",
    "front µs/req",
    "server CPU %",
    "other %",
    "wrk CPU %",
    "other on wrk CPU %",
    "bytes/resp",
    "errors",
    "",
  ];
  return table(header, rows);
}

export function ratiosTable(ratios: readonly Ratio[]): string {
  const rows = ratios.map((r) => [
    `${r.gateway} / ${r.other}`,
    r.load,
    r.requestsPerSecond,
    r.p50,
    r.p99,
    r.cpuPerRequest,
  ]);
  return table(["ratio", "load", "req/s", "p50", "p99", "CPU/req"], rows);
}

export function rssTable(peers: readonly PeerResult[]): string {
  const mib = (kib: number) => (kib / 1024).toFixed(1);
  const rows = peers.map((p) => [p.label, mib(p.peakRssKiB.front), mib(p.peakRssKiB.total)]);
  return table(["peer", "front peak RSS MiB", "all processes peak RSS MiB"], rows);
}

export function zmqLegTable(results: readonly LegResult[]): string {
  const rows = results.map((r) => [
    r.transport,
    r.window,
    r.roundTripsPerSecond,
    r.cpuUsPerRoundTrip,
  ]);
  return table(["transport", "in flight", "round trips/s", "CPU µs/round trip"], rows);
}
