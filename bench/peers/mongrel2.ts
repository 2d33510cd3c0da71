/**
 * The Mongrel2 peer (Debian `mongrel2-core`) with two Node echo handlers
 * (bench/servers/mongrel2-handler.ts). Mongrel2 reads its config from a sqlite database
 * that `m2sh load` writes. It runs as `nobody` when we are root: as root it would chroot
 * and daemonize, and we could no longer stop it by the PID we started. Its access log
 * stays on, as the gateway's does.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chownSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { requireExecutable } from "../apt.js";
import type { Started } from "../processes.js";
import { startProcess, waitForLine } from "../processes.js";
import { ECHO_PATH } from "../payload.js";
import { SERVER_CPU } from "../pinning.js";
import { findFreePort } from "../ports.js";
import type { BackendTransport } from "../transport.js";
import { socketPath } from "../transport.js";
import { waitUntilServing } from "../verify.js";
import type { Peer } from "./peer.js";
import { processesOf, startNodeScript, startOrCleanUp, stopInOrder } from "./peer.js";

const HANDLERS = 2;

interface Mongrel2Endpoints {
  http: number;
  /** Mongrel2 binds and PUSHes requests here; handlers PULL. */
  send: string;
  /** Mongrel2 binds and SUBscribes here; handlers PUB replies. */
  recv: string;
}

function mongrel2Config(serverUuid: string, endpoints: Mongrel2Endpoints): string {
  // chroot "./" with relative paths: run unprivileged it cannot chroot and stays in cwd.
  return `
echo_handler = Handler(send_spec='${endpoints.send}',
                       send_ident='${randomUUID()}',
                       recv_spec='${endpoints.recv}', recv_ident='')
main = Server(
    uuid="${serverUuid}",
    access_log="/logs/access.log",
    error_log="/logs/error.log",
    chroot="./",
    default_host="localhost",
    name="bench",
    pid_file="/run/mongrel2.pid",
    bind_addr="127.0.0.1",
    port=${endpoints.http},
    hosts=[Host(name="localhost", routes={'${ECHO_PATH}': echo_handler})]
)
settings = {"zeromq.threads": 1}
servers = [main]
`;
}

/** nobody's uid and gid when we are root (Mongrel2 must not run as root), else ours. */
function unprivilegedIds(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) =>
    Number(execFileSync("id", [flag, "nobody"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
}

function chownTree(dir: string, uid: number, gid: number): void {
  chownSync(dir, uid, gid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) chownTree(path, uid, gid);
    else chownSync(path, uid, gid);
  }
}

/** Mongrel2's two handler endpoints: loopback ports, or ipc:// paths in `dir/run`. */
async function handlerEndpoints(transport: BackendTransport, dir: string): Promise<{ send: string; recv: string }> {
  if (transport === "unix") {
    return { send: `ipc://${socketPath(`${dir}/run`, "send")}`, recv: `ipc://${socketPath(`${dir}/run`, "recv")}` };
  }
  return { send: `tcp://127.0.0.1:${await findFreePort()}`, recv: `tcp://127.0.0.1:${await findFreePort()}` };
}

export async function startMongrel2(workDir: string, transport: BackendTransport = "tcp"): Promise<Peer> {
  const started: Started[] = [];
  return startOrCleanUp(started, async () => {
    const dir = `${workDir}/mongrel2`;
    for (const sub of ["run", "logs", "tmp"]) mkdirSync(`${dir}/${sub}`, { recursive: true });
    const endpoints: Mongrel2Endpoints = { http: await findFreePort(), ...(await handlerEndpoints(transport, dir)) };
    const serverUuid = randomUUID();
    writeFileSync(`${dir}/mongrel2.conf`, mongrel2Config(serverUuid, endpoints));
    const ids = unprivilegedIds();
    if (ids.uid !== undefined && ids.gid !== undefined) chownTree(dir, ids.uid, ids.gid);
    // m2sh wants LOGNAME (it records who loaded the config).
    const env = { ...process.env, LOGNAME: process.env.LOGNAME ?? "bench" };
    execFileSync(
      requireExecutable("m2sh"),
      ["load", "-config", "mongrel2.conf", "-db", "config.sqlite"],
      {
        cwd: dir,
        env,
        ...ids,
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    const front = startProcess({
      name: "mongrel2",
      command: requireExecutable("mongrel2"),
      args: ["config.sqlite", serverUuid],
      cpu: SERVER_CPU,
      logPath: `${workDir}/mongrel2.log`,
      cwd: dir,
      env,
      ...ids,
    });
    started.push(front);
    await waitForLine(front, /Running\. Copyright/);
    const handlers: Started[] = [];
    for (let i = 1; i <= HANDLERS; i++) {
      const handler = startNodeScript(
        `m2-handler-${i}`,
        "bench/servers/mongrel2-handler.js",
        workDir,
        {
          M2_SEND_SPEC: endpoints.send,
          M2_RECV_SPEC: endpoints.recv,
        },
      );
      handlers.push(handler);
      started.push(handler);
    }
    await Promise.all(handlers.map((handler) => waitForLine(handler, /^ready$/)));
    const url = `http://127.0.0.1:${endpoints.http}${ECHO_PATH}`;
    await waitUntilServing(url);
    return {
      id: "mongrel2",
      label: "Mongrel2 + 2 handlers",
      url,
      processes: processesOf(front, "mongrel2", handlers, "handler"),
      stop: () => stopInOrder(started),
    };
  });
}
