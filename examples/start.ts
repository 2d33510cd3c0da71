/**
 * The quick start behind `npm start`: the example workers and a gateway in front of them
 * (examples/gateway.yaml), all as child processes, and the curl lines to try.
 *
 *   echo-1, echo-2  dist/examples/echo-worker.js   bound on tcp://127.0.0.1:5555 and :5556
 *   files           dist/examples/files-worker.js  bound on tcp://127.0.0.1:5557, FILES_ROOT=examples/
 *   py              examples/python/echo_worker.py bound on tcp://127.0.0.1:5558 (/usr/bin/python3;
 *                   skipped with a hint when it has no zmq module)
 *   gateway         dist/src/main.js --config examples/gateway.yaml, started once every worker
 *                   printed its `ready` line; ZMQ_GATEWAY_* variables pass through
 *
 * The gateway's stdout (JSON log lines) is forwarded to stdout; this script's own lines go
 * to stderr. On SIGINT, SIGTERM or SIGHUP the gateway is stopped first (SIGTERM: it drains),
 * then the workers; each gets SIGKILL if it outlives its grace period. Children run in their
 * own process groups, so a terminal's Ctrl-C reaches this script alone and the order holds.
 * Only the PIDs started here are ever signalled. If a child exits on its own, the others
 * are stopped and the exit code is 1; after a requested stop it is 0.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { GATEWAY_NODE_FLAGS } from "../src/node-flags.js";

const root = fileURLToPath(new URL("../../", import.meta.url)); // dist/examples/ -> the repository
const PYTHON = "/usr/bin/python3";
const READY_TIMEOUT_MS = 15_000;
/** The gateway drains for up to drainTimeoutMs (10 s by default), then closes its listeners. */
const GATEWAY_GRACE_MS = 15_000;
const WORKER_GRACE_MS = 5_000;

interface Child {
  name: string;
  process: ChildProcess;
  running: boolean;
  /** Settles once the process has exited and its stdout is read to the end. */
  closed: Promise<void>;
}

const workers: Child[] = [];
let gateway: Child | undefined;
let stopping = false;

const say = (line: string) => process.stderr.write(`[start] ${line}\n`);

function launch(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Child {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
    detached: true, // its own process group: a terminal's Ctrl-C does not reach it
  });
  const entry: Child = { name, process: child, running: true, closed: Promise.resolve() };
  entry.closed = new Promise((resolve) => {
    child.once("error", (error) => say(`${name}: ${error.message}`));
    child.once("close", (code, signal) => {
      entry.running = false;
      if (!stopping) {
        say(
          `${name} (pid ${child.pid ?? "?"}) exited unexpectedly (${signal ?? `code ${code}`}); stopping the rest`,
        );
        void shutdown(1);
      }
      resolve();
    });
  });
  return entry;
}

/** Resolves with the endpoint of the worker's `ready <endpoint>` line; later lines go to stderr. */
function whenReady(worker: Child): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${worker.name} printed no ready line in ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    );
    let ready = false;
    createInterface({ input: worker.process.stdout! }).on("line", (line) => {
      const match = /^ready (\S+)/.exec(line);
      if (!ready && match?.[1]) {
        ready = true;
        clearTimeout(timer);
        resolve(match[1]);
      } else {
        say(`${worker.name}: ${line}`);
      }
    });
    void worker.closed.then(() => {
      clearTimeout(timer);
      reject(new Error(`${worker.name} exited before it was ready`));
    });
  });
}

/** Forwards the gateway's log lines to stdout; resolves with its ports once it listens. */
function whenListening(child: Child): Promise<{ httpPort: number; adminPort: number }> {
  return new Promise((resolve, reject) => {
    createInterface({ input: child.process.stdout! }).on("line", (line) => {
      process.stdout.write(`${line}\n`);
      let entry: { event?: unknown; httpPort?: unknown; adminPort?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.event === "listening")
        resolve({ httpPort: Number(entry.httpPort), adminPort: Number(entry.adminPort) });
    });
    void child.closed.then(() => reject(new Error("the gateway exited before it was listening")));
  });
}

/** SIGTERM to this one PID; SIGKILL if it is still there after `graceMs`. */
async function stop(child: Child, graceMs: number): Promise<void> {
  if (!child.running) return;
  child.process.kill("SIGTERM");
  const timer = setTimeout(() => {
    say(`${child.name} still running after ${graceMs} ms: SIGKILL`);
    child.process.kill("SIGKILL");
  }, graceMs);
  await child.closed;
  clearTimeout(timer);
}

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (gateway) await stop(gateway, GATEWAY_GRACE_MS);
  await Promise.all(workers.map((worker) => stop(worker, WORKER_GRACE_MS)));
  say(code === 0 ? "stopped" : "stopped after a failure");
  process.exit(code);
}

/** A shown host for a listener: wildcards become a name curl can reach. */
function shownHost(host: string | undefined, fallback: string): string {
  return !host || host === "0.0.0.0" || host === "::"
    ? fallback
    : host.includes(":")
      ? `[${host}]`
      : host;
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const)
  process.on(signal, () => void shutdown(0));
// Last resort (an exception in this script): no child outlives it.
process.on("exit", () => {
  for (const child of [gateway, ...workers]) if (child?.running) child.process.kill("SIGKILL");
});

const node = process.execPath;
const bind = (port: number) => ({ WORKER_BIND: `tcp://127.0.0.1:${port}` });
workers.push(
  launch("echo-1", node, ["dist/examples/echo-worker.js"], bind(5555)),
  launch("echo-2", node, ["dist/examples/echo-worker.js"], bind(5556)),
  launch("files", node, ["dist/examples/files-worker.js"], {
    ...bind(5557),
    FILES_ROOT: `${root}examples`,
  }),
);
const pythonHasZmq =
  spawnSync(PYTHON, ["-c", "import zmq"], { stdio: "ignore", timeout: 10_000 }).status === 0;
if (pythonHasZmq)
  workers.push(launch("py", PYTHON, ["examples/python/echo_worker.py"], bind(5558)));
else
  say(
    `py worker skipped: ${PYTHON} has no zmq module (apt-get install python3-zmq); the py service will answer 503`,
  );

try {
  await Promise.all(workers.map(whenReady));
  gateway = launch("gateway", node, [...GATEWAY_NODE_FLAGS, "dist/src/main.js", "--config", "examples/gateway.yaml"]);
  const { httpPort, adminPort } = await whenListening(gateway);
  const http = `${shownHost(process.env.ZMQ_GATEWAY_HOST, "localhost")}:${httpPort}`;
  const admin = `${shownHost(process.env.ZMQ_GATEWAY_ADMIN_HOST, "127.0.0.1")}:${adminPort}`;
  process.stderr.write(
    [
      "",
      `zmq-gateway is up on http://${http} (admin http://${admin}) with ${workers.length} workers. Try:`,
      `  curl -d '{"hello":"world"}' ${http}/v1/echo`,
      `  curl -d '{"path":"gateway.yaml"}' ${http}/v1/files`,
      `  curl -d 'hello from curl' ${http}/v1/py${pythonHasZmq ? "" : "    (503: no Python worker)"}`,
      `  curl ${admin}/admin/services`,
      "Ctrl-C stops the gateway (it drains first), then the workers.",
      "",
    ].join("\n") + "\n",
  );
} catch (error) {
  say(`cannot start: ${(error as Error).message}`);
  await shutdown(1);
}
