/**
 * Every process the benchmark starts goes through here, so that every one of them, and
 * only those, can be stopped by PID: on a normal stop, on error and on Ctrl-C. Output
 * goes to a log file rather than a pipe, so that a chatty server (the gateway's access
 * log) never blocks on a full pipe and the orchestrator spends no CPU reading it.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { pinCommand } from "./pinning.js";

export interface StartOptions {
  /** Short name, used for the log file and in error messages. */
  name: string;
  command: string;
  args: readonly string[];
  /** CPU to pin to with taskset; undefined runs unpinned. */
  cpu?: number | undefined;
  /** stdout and stderr go here (created or truncated). */
  logPath: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user and group (Mongrel2 as nobody when we are root). */
  uid?: number;
  gid?: number;
}

export interface Started {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
}

const running = new Map<number, Started>();
/** PIDs outside `running` that we own: wrk runs, nginx workers of our nginx master. */
const adopted = new Set<number>();

/** Starts a process with its output in `logPath`; it is tracked until it exits. */
export function startProcess(options: StartOptions): Started {
  const [command, args] = pinCommand(options.cpu, options.command, options.args);
  const log = openSync(options.logPath, "w");
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      stdio: ["ignore", log, log],
      env: options.env ?? process.env,
      cwd: options.cwd,
      uid: options.uid,
      gid: options.gid,
    });
  } finally {
    closeSync(log);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name}: could not start ${command}`);
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      running.delete(pid);
      resolve(code ?? signal ?? "unknown");
    });
    child.once("error", (error) => {
      running.delete(pid);
      resolve(`spawn error: ${error.message}`);
    });
  });
  const started: Started = { name: options.name, pid, logPath: options.logPath, child, exited };
  running.set(pid, started);
  return started;
}

/**
 * Marks a PID as ours to kill at exit: wrk runs, and nginx workers of our nginx master.
 * Call the returned function once the process is gone, so that a recycled PID is never
 * signalled.
 */
export function adoptPid(pid: number): () => void {
  adopted.add(pid);
  return () => adopted.delete(pid);
}

function isAlive(started: Started): boolean {
  return started.child.exitCode === null && started.child.signalCode === null;
}

/**
 * SIGTERM, then SIGKILL after `graceMs`. Resolves with how the process ended, which is
 * how the gateway's clean drain (exit 0) is checked.
 */
export async function stopProcess(started: Started, graceMs = 5_000): Promise<number | string> {
  if (isAlive(started)) started.child.kill("SIGTERM");
  const timer = sleep(graceMs).then(() => "timeout" as const);
  const first = await Promise.race([started.exited, timer]);
  if (first !== "timeout") return first;
  if (isAlive(started)) started.child.kill("SIGKILL");
  return `killed after ${graceMs} ms: ${String(await started.exited)}`;
}

/**
 * For Ctrl-C and errors: SIGTERM every tracked process at once (nginx then stops and
 * reaps its own workers), wait up to `graceMs` for them, then SIGKILL what is left.
 */
export async function terminateAll(graceMs = 2_000): Promise<void> {
  const alive = [...running.values()].filter(isAlive);
  for (const started of alive) started.child.kill("SIGTERM");
  await Promise.race([Promise.all(alive.map((started) => started.exited)), sleep(graceMs)]);
  killAllSync();
}

/**
 * Synchronous last resort for exit paths (error, Ctrl-C): SIGKILL every process still
 * tracked, by PID, then every adopted PID.
 */
export function killAllSync(): void {
  for (const started of running.values()) {
    if (isAlive(started)) started.child.kill("SIGKILL");
  }
  for (const pid of adopted) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  adopted.clear();
}

/** The last `bytes` of a log file, for error messages. */
export function tailOf(path: string, bytes = 2_000): string {
  try {
    const text = readFileSync(path, "utf8");
    return text.slice(-bytes);
  } catch {
    return "(no log)";
  }
}

/**
 * Polls a process's log until a line matches `pattern`; fails if the process exits first
 * or `timeoutMs` passes, quoting the end of its log.
 */
export async function waitForLine(
  started: Started,
  pattern: RegExp,
  timeoutMs = 15_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = readFileSync(started.logPath, "utf8");
    const line = text.split("\n").find((candidate) => pattern.test(candidate));
    if (line !== undefined) return line;
    if (!isAlive(started)) {
      throw new Error(
        `${started.name} exited before printing ${pattern}:\n${tailOf(started.logPath)}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${started.name} did not print ${pattern} within ${timeoutMs} ms:\n${tailOf(started.logPath)}`,
      );
    }
    await sleep(50);
  }
}
