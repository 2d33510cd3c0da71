/**
 * The nginx peer (Debian `nginx-light`): a reverse proxy with a keep-alive upstream to
 * two node:http echo servers (bench/servers/http-echo.ts). One worker process, since the
 * server side gets one CPU; access log on, as the gateway's is. `daemon off` keeps the
 * master as the process we started; its workers are found by parent PID and adopted,
 * so they are killed too if the master is.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { requireExecutable } from "../apt.js";
import type { ServerProcess } from "../cpu.js";
import type { Started } from "../processes.js";
import { adoptPid, startProcess, waitForLine } from "../processes.js";
import { ECHO_PATH } from "../payload.js";
import { SERVER_CPU } from "../pinning.js";
import { findFreePort } from "../ports.js";
import type { BackendTransport } from "../transport.js";
import { socketPath } from "../transport.js";
import { waitUntilServing } from "../verify.js";
import type { Peer } from "./peer.js";
import { startNodeScript, startOrCleanUp, stopInOrder } from "./peer.js";

const UPSTREAMS = 2;
const WORKER_PROCESSES = 1;

/** `upstreams`: nginx `server` addresses, `127.0.0.1:PORT` or `unix:/path`. */
function nginxConfig(dir: string, port: number, upstreams: readonly string[]): string {
  const asRoot = process.getuid?.() === 0;
  return `
${asRoot ? "user nobody nogroup;" : ""}
worker_processes ${WORKER_PROCESSES};
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  keepalive_requests 1000000;
  upstream echo {
${upstreams.map((address) => `    server ${address};`).join("\n")}
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://echo;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

/** PIDs whose parent is `ppid`, from /proc/PID/stat (field 4). */
function childrenOf(ppid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent === ppid) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

async function waitForWorkers(
  master: Started,
  count: number,
  timeoutMs = 10_000,
): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = childrenOf(master.pid);
    if (pids.length >= count) return pids;
    if (Date.now() > deadline) throw new Error(`nginx started ${pids.length} of ${count} workers`);
    await sleep(50);
  }
}

export async function startNginx(workDir: string, transport: BackendTransport = "tcp"): Promise<Peer> {
  const started: Started[] = [];
  const releases: (() => unknown)[] = [];
  const releaseWorkers = () => releases.splice(0).forEach((release) => release());
  const peer = startOrCleanUp(started, async () => {
    const upstreams: Started[] = [];
    for (let i = 1; i <= UPSTREAMS; i++) {
      const name = `http-echo-${i}`;
      const env = transport === "unix" ? { SOCKET: socketPath(workDir, name) } : {};
      const upstream = startNodeScript(name, "bench/servers/http-echo.js", workDir, env);
      upstreams.push(upstream);
      started.push(upstream);
    }
    const upstreamAddresses = await Promise.all(
      upstreams.map(async (u) => {
        const where = (await waitForLine(u, /^listening (\d+|unix:\/.*)$/)).slice("listening ".length).trim();
        return where.startsWith("unix:") ? where : `127.0.0.1:${where}`;
      }),
    );
    const dir = `${workDir}/nginx`;
    mkdirSync(`${dir}/tmp`, { recursive: true });
    const port = await findFreePort();
    writeFileSync(`${dir}/nginx.conf`, nginxConfig(dir, port, upstreamAddresses));
    const master = startProcess({
      name: "nginx",
      command: requireExecutable("nginx"),
      args: ["-p", dir, "-c", `${dir}/nginx.conf`, "-e", `${dir}/error.log`],
      cpu: SERVER_CPU,
      logPath: `${workDir}/nginx.log`,
    });
    started.unshift(master); // front first: nginx stops before its upstreams
    const workers = await waitForWorkers(master, WORKER_PROCESSES);
    for (const pid of workers) releases.push(adoptPid(pid));
    const url = `http://127.0.0.1:${port}${ECHO_PATH}`;
    await waitUntilServing(url);
    const processes: ServerProcess[] = [
      { pid: master.pid, role: "front", name: "nginx-master" },
      ...workers.map((pid) => ({ pid, role: "front" as const, name: "nginx-worker" })),
      ...upstreams.map((u) => ({ pid: u.pid, role: "upstream" as const, name: u.name })),
    ];
    return {
      id: "nginx",
      label: "nginx + 2 node:http",
      url,
      processes,
      stop: async () => {
        const ended = await stopInOrder(started);
        releaseWorkers();
        return ended;
      },
    };
  });
  // A failed start has stopped the master, and with it the workers.
  return peer.catch((error: unknown) => {
    releaseWorkers();
    throw error;
  });
}
