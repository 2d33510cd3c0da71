/**
 * An in-process gateway on OS-chosen ports, with its log lines captured. Each test
 * owns the gateway it starts and stops it.
 */
import { Writable } from "node:stream";
import { parseConfig, type ConfigInput } from "../../src/config.js";
import { createGateway, type Gateway, type GatewayAddresses } from "../../src/gateway.js";
import type { Secrets } from "../../src/secrets.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { waitUntil } from "./wait.js";

export interface TestGateway {
  gateway: Gateway;
  addresses: GatewayAddresses;
  /** e.g. http://127.0.0.1:PORT */
  url: string;
  adminUrl: string;
  logs: Record<string, unknown>[];
  stop(): Promise<void>;
  /** GET /admin/services, parsed. */
  services(): Promise<AdminServices>;
  /** Waits until `service` has at least `count` connected workers. */
  waitForWorkers(service: string, count: number, timeoutMs?: number): Promise<void>;
}

export interface AdminServices {
  services: {
    name: string;
    connectedWorkers: number;
    inFlight: number;
    queued: number;
    pending: number;
    counters: Record<string, number>;
    workers: { id: string; endpoint: string; joined: string; state: string; connected: boolean; peers: number; inFlight: number; served: number; failures: number }[];
  }[];
}

export async function startGateway(input: ConfigInput, secrets?: Secrets): Promise<TestGateway> {
  const config = parseConfig({
    http: { host: "127.0.0.1", port: 0 },
    admin: { host: "127.0.0.1", port: 0 },
    lingerMs: 0,
    drainTimeoutMs: 2_000,
    ...input,
  });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const gateway = createGateway(config, createLogger("info", sink), { secrets });
  const addresses = await gateway.start();
  const adminUrl = `http://127.0.0.1:${addresses.adminPort}`;
  const services = async () => (await (await fetch(`${adminUrl}/admin/services`)).json()) as AdminServices;
  return {
    gateway,
    addresses,
    url: `http://127.0.0.1:${addresses.httpPort}`,
    adminUrl,
    logs,
    stop: () => gateway.stop(),
    services,
    waitForWorkers: (service, count, timeoutMs = 5_000) =>
      waitUntil(
        async () => ((await services()).services.find((s) => s.name === service)?.connectedWorkers ?? 0) >= count,
        `${count} connected worker(s) on ${service}`,
        { timeoutMs },
      ),
  };
}
