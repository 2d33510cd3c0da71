/**
 * The three setups of the mixed-latency scenario, each with MIXED_WORKERS bench workers
 * (bench/servers/mixed-worker.ts), every worker its own process, all pinned to the
 * server CPU:
 *
 * - `naive`: bench/servers/naive-gateway.ts, one DEALER connected to the bound workers
 *   (libzmq's blind round-robin);
 * - `gateway-out`: the gateway connecting out to the bound workers, one DEALER per
 *   worker, `window: 1` (worker-aware dispatch);
 * - `gateway-in`: the gateway binding one endpoint (`bind:`) that the workers connect
 *   to (WORKER_CONNECT): a bound DEALER, blind again (docs/dispatch.md).
 *
 * Each start returns once every worker is connected and one request went through.
 */
import { writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { waitForPeers } from "../admin.js";
import { MIXED_PATH, MIXED_WORKERS } from "../mixed-plan.js";
import { distFile } from "../paths.js";
import { SERVER_CPU } from "../pinning.js";
import type { Started } from "../processes.js";
import { startProcess, waitForLine } from "../processes.js";
import { boundEndpoint } from "../transport.js";
import { parseListening } from "./gateway.js";
import type { Peer } from "./peer.js";
import { processesOf, startNodeScript, startOrCleanUp, stopInOrder } from "./peer.js";

export type MixedSetupId = "naive" | "gateway-out" | "gateway-in";

export const MIXED_LABELS: Record<MixedSetupId, string> = {
  naive: "naive DEALER round-robin",
  "gateway-out": "gateway, connect-out (defaults: window 16)",
  "gateway-in": "gateway, connect-in (bind) (defaults)",
};

function startWorkers(workDir: string, started: Started[], connect?: string): Started[] {
  const where = connect ? { WORKER_CONNECT: connect } : { WORKER_BIND: "tcp://127.0.0.1:0" };
  const workers: Started[] = [];
  for (let i = 1; i <= MIXED_WORKERS; i++) {
    const worker = startNodeScript(
      `mixed-worker-${i}`,
      "bench/servers/mixed-worker.js",
      workDir,
      where,
    );
    workers.push(worker);
    started.push(worker);
  }
  return workers;
}

async function boundEndpoints(workers: readonly Started[]): Promise<string[]> {
  return Promise.all(workers.map(boundEndpoint));
}

/** One fast request must come back as sent before the load starts. */
async function checkEcho(url: string): Promise<void> {
  const body = "fast:check";
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(url, {
        method: "POST",
        body,
        signal: AbortSignal.timeout(2_000),
      });
      const text = await response.text();
      if (response.status === 200 && text === body) return;
      throw new Error(`${response.status} ${text.slice(0, 200)}`);
    } catch (error) {
      if (attempt >= 50) throw new Error(`POST ${url} did not echo`, { cause: error });
      await sleep(100);
    }
  }
}

/** The naive gateway in front of MIXED_WORKERS bound workers. */
export function startNaive(workDir: string): Promise<Peer> {
  const started: Started[] = [];
  return startOrCleanUp(started, async () => {
    const workers = startWorkers(workDir, started);
    const endpoints = await boundEndpoints(workers);
    const front = startNodeScript("naive-gateway", "bench/servers/naive-gateway.js", workDir, {
      WORKERS: endpoints.join(","),
    });
    started.unshift(front);
    const port = Number((await waitForLine(front, /^listening \d+$/)).split(" ")[1]);
    const url = `http://127.0.0.1:${port}${MIXED_PATH}`;
    await checkEcho(url);
    return {
      id: "naive",
      label: MIXED_LABELS.naive,
      url,
      processes: processesOf(front, "naive-gateway", workers),
      stop: () => stopInOrder(started),
    };
  });
}

function mixedConfig(where: { workers: readonly string[] } | { bind: string }): string {
  const lines =
    "bind" in where
      ? [`    bind: ${where.bind}`]
      : ["    workers:", ...where.workers.map((endpoint) => `      - ${endpoint}`)];
  return [
    "http: { host: 127.0.0.1, port: 0 }",
    "admin: { host: 127.0.0.1, port: 0 }",
    "log: { level: info }",
    "services:",
    "  mixed:",
    "    contentType: text/plain",
    ...lines,
    "    window: 1",
    "    timeoutMs: 10000",
    "",
  ].join("\n");
}

/**
 * The gateway with MIXED_WORKERS workers: connect-out (`connectIn` false: workers bind,
 * the config lists them) or connect-in (the gateway binds, workers connect to it).
 */
export function startMixedGateway(
  workDir: string,
  connectIn: boolean,
  main = distFile("src/main.js"),
): Promise<Peer> {
  const started: Started[] = [];
  const id: MixedSetupId = connectIn ? "gateway-in" : "gateway-out";
  return startOrCleanUp(started, async () => {
    let workers: Started[] = [];
    let config: string;
    if (connectIn) config = mixedConfig({ bind: "tcp://127.0.0.1:0" });
    else {
      workers = startWorkers(workDir, started);
      config = mixedConfig({ workers: await boundEndpoints(workers) });
    }
    const configPath = `${workDir}/gateway-${id}.yaml`;
    writeFileSync(configPath, config);
    const gateway = startProcess({
      name: `gateway-${id}`,
      command: process.execPath,
      args: [main, "--config", configPath],
      cpu: SERVER_CPU,
      logPath: `${workDir}/gateway-${id}.log`,
    });
    started.unshift(gateway); // stopped first, so it drains before its workers go
    const { httpPort, adminPort, binds } = parseListening(
      await waitForLine(gateway, /"msg":"gateway listening"/),
    );
    if (connectIn) {
      const bound = binds.mixed;
      if (!bound) throw new Error("the gateway's listening line has no binds.mixed");
      workers = startWorkers(workDir, started, bound);
    }
    const adminServicesUrl = `http://127.0.0.1:${adminPort}/admin/services`;
    await waitForPeers(adminServicesUrl, "mixed", MIXED_WORKERS);
    const url = `http://127.0.0.1:${httpPort}${MIXED_PATH}`;
    await checkEcho(url);
    return {
      id,
      label: MIXED_LABELS[id],
      url,
      adminServicesUrl,
      processes: processesOf(gateway, "gateway", workers),
      stop: () => stopInOrder(started),
    };
  });
}
