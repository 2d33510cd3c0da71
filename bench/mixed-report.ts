/**
 * How the mixed-latency scenario prints: one line per run while it goes, then a
 * Markdown table (pasteable into docs/benchmarks.md) and one verdict per rate on the
 * dispatch issue's goal. Latencies in ms.
 */
import type { MixedReport, MixedResult } from "./mixed.js";
import { allWorkersSlowShare, capacityPerSecond, GOAL_RATIO } from "./mixed-plan.js";
import { errorCount } from "./wrk.js";

const ms = (us: number) => (us / 1000).toFixed(2);

/** The progress line of one run. */
export function describeRun(r: MixedResult): string {
  const { fast, slow } = r.load;
  const errors = errorCount(r.load.errors);
  return (
    `${r.id.padEnd(12)} ${r.load.completedPerSecond}/${r.load.offeredPerSecond} req/s  ` +
    `fast p50 ${ms(fast.p50)} p99 ${ms(fast.p99)} ms (x${r.fastP99OverP50})  ` +
    `slow p50 ${ms(slow.p50)} ms (n=${slow.count})  server CPU ${r.serverCpuBusyPercent ?? "?"}% ` +
    `other ${r.otherCpuPercent ?? "?"}%  other on client CPU ${r.loadCpuOtherPercent ?? "?"}%  ` +
    `client lag p99 ${ms(r.load.sendLagUs.p99)} ms${r.noisy ? "  noisy" : ""}` +
    (errors > 0 ? `  ERRORS ${JSON.stringify(r.load.errors)}` : "")
  );
}

/** What was offered: one line per rate. */
export function mixedPlanLines(report: MixedReport): string {
  const p = report.plan;
  const rates = [...new Set(report.runs.map((r) => r.load.offeredPerSecond))];
  return rates
    .map(
      (rate) =>
        `mixed latency: ${String(p.workers)} workers, ${String(p.fastMs)} ms, or ${String(p.slowMs)} ms ` +
        `for ${Number(p.slowShare) * 100}% (mean ${String(p.meanServiceMs)} ms, capacity ` +
        `${Math.round(capacityPerSecond)} req/s); ${rate} req/s offered = ` +
        `${Math.round((rate / capacityPerSecond) * 100)}% of capacity, open loop, ` +
        `${String(p.durationSeconds)} s; all workers on slow requests ` +
        `${(allWorkersSlowShare(rate) * 100).toFixed(2)}% of the time`,
    )
    .join("\n");
}

export function mixedTable(runs: readonly MixedResult[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(" | ")} |`;
  const header = [
    "setup",
    "offered req/s",
    "done req/s",
    "fast p50 ms",
    "fast p99 ms",
    "fast p99/p50",
    "fast p99 from send ms",
    "fast max ms",
    "slow p50 ms",
    "slow n",
    "errors",
    "server CPU %",
    "CPU µs/req",
    "other %",
    "other on client CPU %",
    "client lag p99 ms",
    "",
  ];
  const rows = runs.map((r) => [
    r.label,
    r.load.offeredPerSecond,
    r.load.completedPerSecond,
    ms(r.load.fast.p50),
    ms(r.load.fast.p99),
    r.fastP99OverP50,
    ms(r.load.fastFromSend.p99),
    ms(r.load.fast.max),
    ms(r.load.slow.p50),
    r.load.slow.count,
    errorCount(r.load.errors),
    r.serverCpuBusyPercent ?? "-",
    r.cpuUsPerRequest,
    r.otherCpuPercent ?? "-",
    r.loadCpuOtherPercent ?? "-",
    ms(r.load.sendLagUs.p99),
    r.noisy ? "noisy" : "",
  ]);
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The no-overhead model of each rate, one line per rate. */
export function modelLines(report: MixedReport): string {
  const rates = [...new Set(report.model.map((m) => m.offeredPerSecond))];
  return rates
    .map((rate) => {
      const rules = report.model
        .filter((m) => m.offeredPerSecond === rate)
        .map((m) => `${m.rule} ${m.fastP50Ms} / ${m.fastP99Ms}`);
      return `model at ${rate} req/s, same sequence, no overhead, fast p50 / p99 ms: ${rules.join("; ")}`;
    })
    .join("\n");
}

/** One sentence per rate on the goal, from the gateway-out rows. */
export function goalVerdicts(runs: readonly MixedResult[]): string {
  const outs = runs.filter((r) => r.id === "gateway-out");
  if (outs.length === 0) return "goal: not measured (no gateway-out run)";
  return outs
    .map(
      (out) =>
        `goal at ${out.load.offeredPerSecond} req/s (gateway connect-out, defaults): fast p99 ` +
        `${ms(out.load.fast.p99)} ms vs ${GOAL_RATIO} x fast p50 = ${ms(GOAL_RATIO * out.load.fast.p50)} ms: ` +
        (out.withinGoal ? "HOLDS" : "DOES NOT HOLD") +
        (out.noisy ? " (noisy run: other processes took CPU the load needed; rerun)" : ""),
    )
    .join("\n");
}
