/**
 * Server CPU per request, from /proc/PID/stat: utime + stime of every server-side
 * process before and after a load, divided by the requests wrk completed. This counts
 * all threads of each process (ZeroMQ I/O threads, libuv pool, nginx workers are their
 * own PIDs and are listed separately), and nothing of wrk's.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** A server-side process and what it is to its peer. */
export interface ServerProcess {
  pid: number;
  /** `front` takes the HTTP connections; the rest serve it. */
  role: "front" | "worker" | "handler" | "upstream";
  name: string;
}

let ticksPerSecond: number | undefined;

/** Clock ticks per second (USER_HZ), almost always 100: the resolution of the counters. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond =
        Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of one process, in microseconds; 0 if it is gone. */
export function readCpuMicros(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return 0;
  }
  // The command name (field 2) may hold spaces and parentheses: split after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]); // field 14 of the full line
  const stime = Number(fields[12]); // field 15
  return ((utime + stime) * 1_000_000) / clockTicksPerSecond();
}

/** CPU micros of each process, keyed by PID. */
export type CpuSnapshot = Map<number, number>;

export function snapshotCpu(processes: readonly ServerProcess[]): CpuSnapshot {
  return new Map(processes.map((p) => [p.pid, readCpuMicros(p.pid)]));
}

/** CPU spent between two snapshots, per request, in µs. */
export interface CpuPerRequest {
  /** All server-side processes of the peer. */
  totalUs: number;
  /** The front processes alone (gateway; Mongrel2; nginx master + workers; hono). */
  frontUs: number;
  /** Per process, µs per request, keyed `role:name:pid`. */
  byProcessUs: Record<string, number>;
}

export function cpuPerRequest(
  processes: readonly ServerProcess[],
  before: CpuSnapshot,
  after: CpuSnapshot,
  requests: number,
): CpuPerRequest {
  const byProcessUs: Record<string, number> = {};
  let total = 0;
  let front = 0;
  for (const p of processes) {
    const spent = (after.get(p.pid) ?? 0) - (before.get(p.pid) ?? 0);
    total += spent;
    if (p.role === "front") front += spent;
    byProcessUs[`${p.role}:${p.name}:${p.pid}`] = round(spent / Math.max(requests, 1));
  }
  const per = (us: number) => round(us / Math.max(requests, 1));
  return { totalUs: per(total), frontUs: per(front), byProcessUs };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * Busy time (user + nice + system) of one CPU from /proc/stat, in µs. Compared with the
 * server processes' own CPU on the pinned server CPU, it shows how much of that CPU
 * went to something else during a load: on a shared machine, a noise flag.
 */
export function readCpuBusyMicros(cpu: number): number {
  const line = readFileSync("/proc/stat", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`cpu${cpu} `));
  if (!line) return 0;
  const [, user, nice, system] = line.split(/\s+/).map(Number);
  return (((user ?? 0) + (nice ?? 0) + (system ?? 0)) * 1_000_000) / clockTicksPerSecond();
}
