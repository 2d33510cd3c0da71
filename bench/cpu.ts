/**
 * Server CPU per request, from /proc/PID/stat: utime + stime of every server-side
 * process before and after a load, divided by the requests wrk completed. This counts
 * all threads of each process (ZeroMQ I/O threads, libuv pool, nginx workers are their
 * own PIDs and are listed separately), and nothing of wrk's.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

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

/** utime + stime from the text of a /proc stat file, in µs. */
function statMicros(stat: string): number {
  // The command name (field 2) may hold spaces and parentheses: split after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]); // field 14 of the full line
  const stime = Number(fields[12]); // field 15
  return ((utime + stime) * 1_000_000) / clockTicksPerSecond();
}

/** utime + stime of one process (all its threads), in µs; 0 if it is gone. */
export function readCpuMicros(pid: number): number {
  try {
    return statMicros(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return 0;
  }
}

/**
 * CPU of each thread of a process, summed by thread name (`node`, `ZMQbg/IO/0`,
 * `libuv-worker`, ...), in µs: shows whether the JavaScript thread or ZeroMQ's I/O
 * thread does the work. Threads that exit between two snapshots are not counted.
 */
export function readThreadMicros(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return byName;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      byName.set(name, (byName.get(name) ?? 0) + statMicros(stat));
    } catch {
      // the thread exited while we looked
    }
  }
  return byName;
}

/** CPU µs of each process (keyed by PID) and of each named thread group (keyed `role:name:thread`). */
export interface CpuSnapshot {
  processes: Map<number, number>;
  threads: Map<string, number>;
}

export function snapshotCpu(processes: readonly ServerProcess[]): CpuSnapshot {
  const threads = new Map<string, number>();
  for (const p of processes) {
    for (const [name, us] of readThreadMicros(p.pid))
      threads.set(`${p.role}:${p.name}:${name}`, us);
  }
  return { processes: new Map(processes.map((p) => [p.pid, readCpuMicros(p.pid)])), threads };
}

/** CPU spent between two snapshots, per request, in µs. */
export interface CpuPerRequest {
  /** All server-side processes of the peer. */
  totalUs: number;
  /** The front processes alone (gateway; Mongrel2; nginx master + workers; hono). */
  frontUs: number;
  /** Per process, µs per request, keyed `role:name:pid`. */
  byProcessUs: Record<string, number>;
  /** Per thread name within each process, µs per request, keyed `role:name:thread`; zeros left out. */
  byThreadUs: Record<string, number>;
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
    const spent = (after.processes.get(p.pid) ?? 0) - (before.processes.get(p.pid) ?? 0);
    total += spent;
    if (p.role === "front") front += spent;
    byProcessUs[`${p.role}:${p.name}:${p.pid}`] = round(spent / Math.max(requests, 1));
  }
  const per = (us: number) => round(us / Math.max(requests, 1));
  const byThreadUs: Record<string, number> = {};
  for (const [key, us] of after.threads) {
    const spent = per(us - (before.threads.get(key) ?? us));
    if (spent > 0) byThreadUs[key] = spent;
  }
  return { totalUs: per(total), frontUs: per(front), byProcessUs, byThreadUs };
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
