/**
 * Rounds (`--rounds N`): the order peers run in, and the gateway's ratios paired round by
 * round.
 *
 * Why pair: this machine's speed drifts by ±25% over minutes. A ratio of two medians
 * taken over the rounds can set the gateway's run from a fast minute against the other
 * peer's from a slow one. Within one round the two ran a minute or two apart, so the
 * ratio of that round's pair carries less of the drift; the median of those per-round
 * ratios is the comparison to read. Alternating the direction of the list from round to
 * round keeps either peer of a pair from always running first after a start.
 */
import { COMPARED_PEERS, loadKey, ratio } from "./report.js";
import type { PeerResult } from "./session.js";

/** Round `round` (1-based): the list as given in odd rounds, reversed in even ones. */
export function roundOrder<T>(peers: readonly T[], round: number): T[] {
  return round % 2 === 1 ? [...peers] : [...peers].reverse();
}

/** One measure of a gateway row against another peer, round by round. */
export interface RoundSeries {
  /** gateway / other for each round, rounded to 0.01; null where either had no result. */
  perRound: (number | null)[];
  /** Median of the rounds that have a ratio (mean of the middle two for an even count). */
  median: number;
}

export interface PairedRatio {
  gateway: string;
  other: string;
  /** e.g. `GET c64` */
  load: string;
  requestsPerSecond: RoundSeries;
  p99: RoundSeries;
  /** Every server-side process of each (front and workers, handlers or upstreams). */
  cpuPerRequest: RoundSeries;
  /** The front process of each alone (the gateway process against the baseline's). */
  frontCpuPerRequest: RoundSeries;
}

/** Results of each peer by round: index r holds round r + 1, undefined when it failed. */
export type ResultsByRound = ReadonlyMap<string, readonly (PeerResult | undefined)[]>;

/** The middle value; for an even count the mean of the middle two, to `places` decimals. NaN when empty. */
export function median(values: readonly number[], places = 2): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  if (sorted.length % 2 === 1) return sorted[middle]!;
  const scale = 10 ** places;
  return Math.round(((sorted[middle - 1]! + sorted[middle]!) / 2) * scale) / scale;
}

function series(ratios: (number | null)[]): RoundSeries {
  return { perRound: ratios, median: median(ratios.filter((r): r is number => r !== null)) };
}

/**
 * Every gateway row against the baseline, the naive floor, Mongrel2 and nginx, for each
 * load both measured, as per-round ratios and their median. Rounds where either peer has
 * no result count as null and are left out of the median.
 */
export function pairedRatios(byRound: ResultsByRound): PairedRatio[] {
  const paired: PairedRatio[] = [];
  const ids = [...byRound.keys()];
  for (const gatewayId of ids.filter((id) => id.startsWith("gateway"))) {
    for (const otherId of ids.filter((id) => COMPARED_PEERS.includes(id))) {
      const gatewayRounds = byRound.get(gatewayId) ?? [];
      const otherRounds = byRound.get(otherId) ?? [];
      const rounds = Math.max(gatewayRounds.length, otherRounds.length);
      const loads = new Set(gatewayRounds.flatMap((result) => result?.loads.map(loadKey) ?? []));
      for (const load of loads) {
        const rps: (number | null)[] = [];
        const p99: (number | null)[] = [];
        const cpu: (number | null)[] = [];
        const frontCpu: (number | null)[] = [];
        for (let r = 0; r < rounds; r++) {
          const mine = gatewayRounds[r]?.loads.find((l) => loadKey(l) === load);
          const theirs = otherRounds[r]?.loads.find((l) => loadKey(l) === load);
          const pair = mine && theirs;
          rps.push(pair ? ratio(mine.requestsPerSecond, theirs.requestsPerSecond) : null);
          p99.push(pair ? ratio(mine.latencyUs.p99, theirs.latencyUs.p99) : null);
          cpu.push(pair ? ratio(mine.cpuPerRequest.totalUs, theirs.cpuPerRequest.totalUs) : null);
          frontCpu.push(pair ? ratio(mine.cpuPerRequest.frontUs, theirs.cpuPerRequest.frontUs) : null);
        }
        if (rps.every((r) => r === null)) continue;
        paired.push({ gateway: gatewayId, other: otherId, load, requestsPerSecond: series(rps), p99: series(p99), cpuPerRequest: series(cpu), frontCpuPerRequest: series(frontCpu) });
      }
    }
  }
  return paired;
}

/** The paired ratios as a Markdown table: each round's ratio, then the median in bold. */
export function pairedRatiosTable(paired: readonly PairedRatio[]): string {
  const show = (s: RoundSeries) => `${s.perRound.map((r) => (r === null ? "-" : r)).join(" / ")} → **${s.median}**`;
  const lines = [
    "| gateway / other | load | req/s per round → median | p99 | CPU/req | front CPU/req |",
    "| --- | --- | --- | --- | --- | --- |",
    ...paired.map(
      (p) =>
        `| ${p.gateway} / ${p.other} | ${p.load} | ${show(p.requestsPerSecond)} | ${show(p.p99)} | ${show(p.cpuPerRequest)} | ${show(p.frontCpuPerRequest)} |`,
    ),
  ];
  return lines.join("\n");
}
