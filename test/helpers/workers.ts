/**
 * Real REP workers for tests: in process (zeromq.js), as separate Node processes, and
 * as Python pyzmq processes. Every worker is owned and closed by the test that starts it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { Reply } from "zeromq";
import { PYTHON, exampleScript, fixtureScript, pythonExample } from "./paths.js";

export interface InProcessWorker {
  endpoint: string;
  /** Requests received so far (each as the frames the REP socket handed over). */
  received: Buffer[][];
  close(): void;
}

/**
 * A zeromq.js REP worker in this process. `handler` returns the reply frames; it may be
 * async (to be slow). With `connect`, it connects to the gateway instead of binding.
 */
export async function startWorker(
  handler: (frames: Buffer[]) => (Buffer | string)[] | Promise<(Buffer | string)[]>,
  options: { connect?: string } = {},
): Promise<InProcessWorker> {
  const socket = new Reply({ linger: 0 });
  let endpoint: string;
  if (options.connect) {
    socket.connect(options.connect);
    endpoint = options.connect;
  } else {
    await socket.bind("tcp://127.0.0.1:0");
    endpoint = socket.lastEndpoint ?? "";
  }
  const received: Buffer[][] = [];
  void (async () => {
    try {
      for await (const frames of socket) {
        received.push(frames);
        await socket.send(await handler(frames));
      }
    } catch {
      // closed while waiting or sending: the test is over
    }
  })();
  return { endpoint, received, close: () => socket.close() };
}

export const echo = (frames: Buffer[]): Buffer[] => frames;

export interface WorkerProcess {
  endpoint: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | string>;
  /** Sends `signal` to this process only (by PID). */
  kill(signal?: NodeJS.Signals): void;
  /**
   * SIGTERM, then waits for the exit; a process still there after `graceMs` is killed
   * and the promise rejects, so a worker that hangs on shutdown fails the test by name
   * instead of holding the test file open until its timeout.
   */
  stop(graceMs?: number): Promise<void>;
}

async function spawnReady(command: string, args: string[], env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)));
  const lines = createInterface({ input: child.stdout });
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(" ")} did not become ready`)), 10_000);
    lines.on("line", (line) => {
      const match = /^ready (\S+)/.exec(line);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(" ")} exited (${code}) before it was ready`));
    });
  });
  return {
    endpoint,
    child,
    exited,
    kill: (signal = "SIGKILL") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
    stop: async (graceMs = 5_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), graceMs);
      });
      const outcome = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (outcome !== "late") return;
      child.kill("SIGKILL");
      await exited;
      throw new Error(`${args.join(" ")} did not exit within ${graceMs} ms of SIGTERM`);
    },
  };
}

/** Runs a compiled example worker (e.g. "echo-worker") as its own Node process. */
export function spawnNodeWorker(name: string, env: Record<string, string> = { WORKER_BIND: "tcp://127.0.0.1:0" }): Promise<WorkerProcess> {
  return spawnReady(process.execPath, [exampleScript(name)], env);
}

/** Runs test/fixtures/delay-worker (replies `${WORKER_NAME}:${body}` after DELAY_MS). */
export function spawnDelayWorker(env: Record<string, string>): Promise<WorkerProcess> {
  const where: Record<string, string> = env.WORKER_CONNECT ? {} : { WORKER_BIND: "tcp://127.0.0.1:0" };
  return spawnReady(process.execPath, [fixtureScript("delay-worker")], { ...where, ...env });
}

/**
 * Runs test/fixtures/bad-worker: a ROUTER that binds (by default) or connects
 * (WORKER_CONNECT) and answers in the bad way MODE, or each request, names.
 */
export function spawnBadWorker(env: Record<string, string> = {}): Promise<WorkerProcess> {
  const where: Record<string, string> = env.WORKER_CONNECT ? {} : { WORKER_BIND: "tcp://127.0.0.1:0" };
  return spawnReady(process.execPath, [fixtureScript("bad-worker")], { ...where, ...env });
}

/** Runs a Python example worker with Debian's python3 (which has pyzmq). */
export function spawnPythonWorker(name: string, env: Record<string, string> = { WORKER_BIND: "tcp://127.0.0.1:0" }): Promise<WorkerProcess> {
  return spawnReady(PYTHON, [pythonExample(name)], env);
}
