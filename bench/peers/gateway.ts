/**
 * The gateway peer: `node dist/src/main.js --config gateway.yaml` in front of two bench
 * workers (bench/servers/zmq-echo-worker.ts), each its own process, bound on port 0 (or
 * on an ipc:// path with `--transport unix`); the gateway connects out to them. Logging stays at `info`, as production runs it,
 * and goes to a file.
 */
import { writeFileSync } from "node:fs";
import { GATEWAY_NODE_FLAGS } from "../../src/node-flags.js";
import type { Started } from "../processes.js";
import { startProcess, waitForLine } from "../processes.js";
import { ECHO_PATH } from "../payload.js";
import { distFile } from "../paths.js";
import { LOAD_CPU, SERVER_CPU } from "../pinning.js";
import type { BackendTransport } from "../transport.js";
import { boundEndpoint, zmqBindEndpoint } from "../transport.js";
import { waitUntilServing } from "../verify.js";
import type { Peer } from "./peer.js";
import { processesOf, startNodeScript, startOrCleanUp, stopInOrder } from "./peer.js";

/** Number of echo workers behind the gateway, as behind Mongrel2 and nginx. */
const WORKERS = 2;

function gatewayConfig(workers: readonly string[], window: number | undefined): string {
  return [
    "http: { host: 127.0.0.1, port: 0 }",
    "admin: { host: 127.0.0.1, port: 0 }",
    "log: { level: info }",
    "services:",
    "  echo:",
    "    contentType: application/json",
    "    workers:",
    ...workers.map((endpoint) => `      - ${endpoint}`),
    ...(window === undefined ? [] : [`    window: ${window}`]),
    "",
  ].join("\n");
}

/**
 * The ports from the gateway's `"msg":"gateway listening"` JSON log line, and the
 * endpoint each connect-in service bound (`binds`, keyed by service).
 */
export function parseListening(line: string): {
  httpPort: number;
  adminPort: number;
  binds: Record<string, string>;
} {
  const record = JSON.parse(line) as { httpPort?: unknown; adminPort?: unknown; binds?: unknown };
  if (typeof record.httpPort !== "number" || typeof record.adminPort !== "number") {
    throw new Error(`gateway listening line has no numeric httpPort/adminPort: ${line}`);
  }
  const binds = typeof record.binds === "object" && record.binds !== null ? record.binds : {};
  return {
    httpPort: record.httpPort,
    adminPort: record.adminPort,
    binds: binds as Record<string, string>,
  };
}

export interface GatewayOptions {
  /** Requests in flight per worker; undefined: the product's default. */
  window: number | undefined;
  /** The gateway's entry script; default dist/src/main.js. */
  main?: string | undefined;
  /** If set, the gateway runs under `node --cpu-prof` and writes its profile here on exit. */
  cpuProfileDir?: string | undefined;
  /**
   * Tracing on: a local OTLP/HTTP sink (bench/servers/otlp-sink.ts, on the load
   * generator's CPU) receives the gateway's spans, exported as in production (batched).
   */
  tracing?: boolean | undefined;
  /** Node/V8 flags after the gateway's own (`--ab-node-flags`): V8 keeps the last value of a flag. */
  extraNodeFlags?: readonly string[] | undefined;
  /** How the gateway reaches its workers; default tcp. */
  transport?: BackendTransport | undefined;
}

/**
 * The bench's echo workers (WORKERS of them, each its own process, bound on port 0 or an
 * ipc:// path in `workDir`), for the gateway and the naive floor; added to `started`.
 * Resolves with their endpoints.
 */
export async function startEchoWorkers(
  workDir: string,
  started: Started[],
  transport: BackendTransport = "tcp",
): Promise<{ workers: Started[]; endpoints: string[] }> {
  const workers: Started[] = [];
  for (let i = 1; i <= WORKERS; i++) {
    const name = `zmq-worker-${i}`;
    const worker = startNodeScript(name, "bench/servers/zmq-echo-worker.js", workDir, {
      WORKER_BIND: zmqBindEndpoint(transport, workDir, name),
    });
    workers.push(worker);
    started.push(worker);
  }
  const endpoints = await Promise.all(workers.map(boundEndpoint));
  return { workers, endpoints };
}

/** Starts two workers and the gateway in front of them. */
export async function startGateway(workDir: string, options: GatewayOptions): Promise<Peer> {
  const { window, main = distFile("src/main.js"), cpuProfileDir, tracing = false, extraNodeFlags = [], transport = "tcp" } = options;
  const profileArgs = cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const started: Started[] = [];
  return startOrCleanUp(started, async () => {
    const { workers, endpoints } = await startEchoWorkers(workDir, started, transport);
    let otelEnv: NodeJS.ProcessEnv = {};
    if (tracing) {
      const sink = startNodeScript("otlp-sink", "bench/servers/otlp-sink.js", workDir, {}, LOAD_CPU);
      started.push(sink);
      const port = (await waitForLine(sink, /^listening \d+/)).slice("listening ".length).trim();
      otelEnv = { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_SERVICE_NAME: "zmq-gateway-bench" };
    }
    const configPath = `${workDir}/gateway.yaml`;
    writeFileSync(configPath, gatewayConfig(endpoints, window));
    const gateway = startProcess({
      name: "gateway",
      command: process.execPath,
      args: [...GATEWAY_NODE_FLAGS, ...extraNodeFlags, ...profileArgs, main, "--config", configPath],
      cpu: SERVER_CPU,
      logPath: `${workDir}/gateway.log`,
      env: { ...process.env, ...otelEnv },
    });
    // Front first in the stop order, so the gateway drains before its workers go.
    started.unshift(gateway);
    const { httpPort, adminPort } = parseListening(
      await waitForLine(gateway, /"msg":"gateway listening"/),
    );
    const url = `http://127.0.0.1:${httpPort}${ECHO_PATH}`;
    await waitUntilServing(url);
    return {
      id: `${window === undefined ? "gateway" : `gateway-w${window}`}${tracing ? "-traced" : ""}`,
      label: `${window === undefined ? "gateway (defaults)" : `gateway window ${window}`}${tracing ? ", tracing on" : ""}`,
      url,
      adminServicesUrl: `http://127.0.0.1:${adminPort}/admin/services`,
      cpuProfileDir,
      processes: processesOf(gateway, "gateway", workers),
      stop: () => stopInOrder(started),
    };
  });
}
