/**
 * CPU pinning with taskset: servers share CPU 0, wrk gets CPU 1, so the load generator
 * never steals cycles from the thing it measures. On a machine with one CPU, or without
 * taskset, everything runs unpinned and the report says so.
 */
import { availableParallelism } from "node:os";
import { findExecutable } from "./apt.js";

/** CPU for every server-side process (front, workers, handlers, upstreams). */
export const SERVER_CPU = 0;
/** CPU for wrk. */
export const LOAD_CPU = 1;

let tasksetPath: string | undefined | null = null;

/** Whether pinning is in effect: taskset exists and there are at least two CPUs. */
export function pinningEnabled(): boolean {
  if (tasksetPath === null) tasksetPath = findExecutable("taskset");
  return tasksetPath !== undefined && availableParallelism() >= 2;
}

/** Wraps a command in `taskset -c CPU` (taskset execs, so the PID stays the command's). */
export function pinCommand(
  cpu: number | undefined,
  command: string,
  args: readonly string[],
): [string, string[]] {
  if (cpu === undefined || !pinningEnabled() || !tasksetPath) return [command, [...args]];
  return [tasksetPath, ["-c", String(cpu), command, ...args]];
}
