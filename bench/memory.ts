/**
 * Resident memory from /proc/PID/status: VmHWM is the peak since the process started,
 * VmRSS is now. Both in KiB, as the kernel reports them.
 */
import { readFileSync } from "node:fs";

/** A `Vm*` field of /proc/PID/status in KiB, or undefined if the process is gone. */
export function readStatusKiB(pid: number, field: "VmHWM" | "VmRSS"): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Peak (VmHWM) and current (VmRSS) resident memory of one process, KiB. */
export interface RssKiB {
  peakKiB: number | undefined;
  currentKiB: number | undefined;
}

export function readRss(pid: number): RssKiB {
  return { peakKiB: readStatusKiB(pid, "VmHWM"), currentKiB: readStatusKiB(pid, "VmRSS") };
}
