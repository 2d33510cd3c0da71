/**
 * What the orchestrator knows about a running peer: where to send load, which PIDs are
 * its server side (for CPU and RSS), and how to stop it. Each peer module exports one
 * `startX(workDir)` that returns a Peer or, on failure, stops what it had started.
 */
import type { ServerProcess } from "../cpu.js";
import type { Started } from "../processes.js";
import { startProcess, stopProcess } from "../processes.js";
import { SERVER_CPU } from "../pinning.js";
import { distFile } from "../paths.js";

export interface Peer {
  /** Key in results and in `--only`: baseline, gateway, gateway-w4, mongrel2, nginx. */
  id: string;
  /** Row label in the table. */
  label: string;
  /** Full URL of the echo route. */
  url: string;
  /** Every server-side process, front first. */
  processes: readonly ServerProcess[];
  /** The gateway's `GET /admin/services`, where there is one. */
  adminServicesUrl?: string;
  /** Where the front process writes its V8 CPU profile on exit (`--cpu-prof`). */
  cpuProfileDir?: string | undefined;
  /** Stops every process (front first, so it drains) and reports how each one ended. */
  stop(): Promise<Record<string, number | string>>;
}

/** A peer's server side: its front, then the processes behind it (workers or handlers). */
export function processesOf(
  front: Started,
  frontName: string,
  backs: readonly Started[],
  role: "worker" | "handler" = "worker",
): ServerProcess[] {
  return [
    { pid: front.pid, role: "front", name: frontName },
    ...backs.map((back) => ({ pid: back.pid, role, name: back.name })),
  ];
}

/** Starts `dist/<script>` under this Node, pinned to the server CPU, logging to `workDir`. */
export function startNodeScript(
  name: string,
  script: string,
  workDir: string,
  env: NodeJS.ProcessEnv = {},
  cpu: number = SERVER_CPU,
): Started {
  return startProcess({
    name,
    command: process.execPath,
    args: [distFile(script)],
    cpu,
    logPath: `${workDir}/${name}.log`,
    env: { ...process.env, ...env },
  });
}

/** Stops processes in order, one at a time; keyed `name:pid`. */
export async function stopInOrder(
  started: readonly Started[],
): Promise<Record<string, number | string>> {
  const ended: Record<string, number | string> = {};
  for (const child of started) ended[`${child.name}:${child.pid}`] = await stopProcess(child);
  return ended;
}

/**
 * Runs a peer's start-up; if it throws, stops whatever it had pushed onto `started`
 * before rethrowing, so a failed start leaves nothing behind.
 */
export async function startOrCleanUp<T>(started: Started[], build: () => Promise<T>): Promise<T> {
  try {
    return await build();
  } catch (error) {
    await stopInOrder(started);
    throw error;
  }
}
