/**
 * The composition of one gateway: services with their pools, the ROUTER front doors,
 * the public and admin HTTP listeners; start() and a draining stop().
 */
import type { Config } from "./config.js";
import { readAllowedKeys, type Secrets } from "./secrets.js";
import { createEndpointPolicy } from "./services/endpoint-policy.js";
import { configureIoThreads } from "./services/io-threads.js";
import { ZapHandler } from "./services/zap-handler.js";
import { RouterFrontend } from "./frontends/router-frontend.js";
import { createAdminApp, type AdminDirectory } from "./http/admin-app.js";
import { listen, type Listener } from "./http/listen.js";
import { createPublicApp } from "./http/public-app.js";
import { CorrelationIds } from "./protocol/frames.js";
import { resolveWithLookup, type ResolveAddresses } from "./services/dns-discovery.js";
import { Service } from "./services/service.js";
import type { PoolObserver } from "./services/worker-pool.js";
import type { Registry } from "prom-client";
import type { Logger } from "./telemetry/logger.js";
import { createGatewayMetrics } from "./telemetry/metrics.js";
import { combineObservers } from "./telemetry/observers.js";
import { createTracingObserver } from "./telemetry/tracing.js";

export interface GatewayAddresses {
  httpPort: number;
  adminPort: number;
  /** Bound connect-in endpoints by service (port 0 resolved). */
  binds: Record<string, string>;
  /** Bound native front doors by service (port 0 resolved). */
  frontends: Record<string, string>;
}

export interface Gateway {
  readonly services: ReadonlyMap<string, Service>;
  readonly draining: boolean;
  start(): Promise<GatewayAddresses>;
  /** Drains: refuses new work, answers what is under way (by `drainTimeoutMs`), closes everything. */
  stop(): Promise<void>;
  /** Re-reads the CURVE allow-list (SIGHUP); a no-op when CURVE is off. */
  reloadAllowedKeys(): Promise<{ allowed: number; removed: number }>;
}

export interface GatewayOptions {
  /** Sees every attempt to a worker, besides the gateway's own CLIENT spans. */
  observer?: PoolObserver;
  /** Where the gateway registers its metrics (GET /metrics serves all of it); a new one by default. */
  registry?: Registry;
  /** Admin token and CURVE keys (src/secrets.ts); none by default. */
  secrets?: Secrets;
  /** Resolves the names of dns+tcp:// workers (tests inject one); the system resolver by default. */
  resolve?: ResolveAddresses;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

export function createGateway(config: Config, logger: Logger, options: GatewayOptions = {}): Gateway {
  configureIoThreads(config.zmq);
  const ids = new CorrelationIds();
  const linkOptions = {
    lingerMs: config.lingerMs,
    heartbeatIntervalMs: config.zmq.heartbeatIntervalMs,
    heartbeatTimeoutMs: config.zmq.heartbeatTimeoutMs,
    reconnectIntervalMs: config.zmq.reconnectIntervalMs,
    reconnectMaxIntervalMs: config.zmq.reconnectMaxIntervalMs,
    curve: options.secrets?.curve,
  };
  const zap = options.secrets?.curve ? new ZapHandler(readAllowedKeys(config), logger) : undefined;
  const adminToken = options.secrets?.adminToken;
  const services = new Map<string, Service>();
  const observer = combineObservers(createTracingObserver(), options.observer);
  for (const [name, serviceConfig] of Object.entries(config.services)) {
    const maxMessageBytes = serviceConfig.maxReplyBytes + 64 * 1024;
    services.set(name, new Service(name, serviceConfig, ids, { ...linkOptions, maxMessageBytes }, observer, logger));
  }
  const frontends = new Map<string, RouterFrontend>();
  const metrics = createGatewayMetrics(
    {
      service: (name) => services.get(name),
      services: () => services.values(),
      frontends: () => [...frontends].map(([service, frontend]) => ({ service, counters: frontend.counters })),
    },
    options.registry,
  );
  const listeners: Listener[] = [];
  let draining = false;
  let stopping: Promise<void> | undefined;

  const directory: AdminDirectory = {
    service: (name) => services.get(name),
    services: () => services.values(),
    get draining() {
      return draining;
    },
    frontendEndpoint: (name) => frontends.get(name)?.endpoint,
    adminToken,
    curveEnabled: zap !== undefined,
    endpointPolicy: createEndpointPolicy(config.admin.allowedWorkerHosts, () => ownEndpoints),
    ...(zap && {
      reloadAllowedKeys: async () => {
        const keys = readAllowedKeys(config);
        const removed = zap.setAllowed(keys);
        // A removed key's open connection would stay: make every connect-in peer re-authenticate.
        if (removed.length > 0) for (const service of services.values()) await service.pool.renewConnectIn();
        return { allowed: keys.length, removed: removed.length };
      },
    }),
  };
  let ownEndpoints: string[] = [];

  const closeSockets = () => {
    for (const service of services.values()) service.stopDiscovery();
    for (const frontend of frontends.values()) frontend.close();
    for (const service of services.values()) service.pool.close();
    zap?.close();
  };

  async function start(): Promise<GatewayAddresses> {
    const binds: Record<string, string> = {};
    const frontendEndpoints: Record<string, string> = {};
    try {
      await zap?.start();
      for (const service of services.values()) {
        await service.start({ intervalMs: config.discovery.dnsIntervalMs, resolve: options.resolve ?? resolveWithLookup });
        const bound = service.pool.snapshot().find((worker) => worker.joined === "connect-in");
        if (bound) binds[service.name] = bound.endpoint;
        if (service.config.frontend) {
          const frontend = new RouterFrontend(service, service.config.frontend, logger, config.lingerMs);
          frontends.set(service.name, frontend);
          await frontend.start();
          frontendEndpoints[service.name] = frontend.endpoint;
        }
      }
      listeners.push(await listen(createPublicApp(directory, logger, metrics, { accessLog: config.log.access }), config.http.host, config.http.port, config.http));
      let adminHost = config.admin.host;
      if (!adminToken && !LOOPBACK.has(adminHost)) {
        logger.warn({ event: "admin-loopback-only", configured: adminHost }, "no admin token is set: the admin listener binds 127.0.0.1 only");
        adminHost = "127.0.0.1";
      }
      listeners.push(await listen(createAdminApp(directory, logger, metrics, { accessLog: config.log.access }), adminHost, config.admin.port));
      if (!adminToken) logger.info({ event: "admin-open" }, "no admin token: the admin API is open to local processes only");
    } catch (error) {
      closeSockets();
      await Promise.all(listeners.map((listener) => listener.close(0)));
      throw error;
    }
    const [http, admin] = listeners;
    const addresses = { httpPort: http?.port ?? 0, adminPort: admin?.port ?? 0, binds, frontends: frontendEndpoints };
    ownEndpoints = [
      `tcp://${config.http.host}:${addresses.httpPort}`,
      `tcp://${config.admin.host}:${addresses.adminPort}`,
      ...Object.values(binds),
      ...Object.values(frontendEndpoints),
    ];
    logger.info({ event: "listening", ...addresses, services: [...services.keys()] }, "gateway listening");
    logger.flush(); // supervisors and scripts wait for this line: do not hold it in the log buffer
    return addresses;
  }

  async function drain(): Promise<void> {
    draining = true;
    logger.info({ event: "draining", drainTimeoutMs: config.drainTimeoutMs }, "draining");
    for (const service of services.values()) service.stopDiscovery();
    for (const service of services.values()) service.pool.stopAccepting();
    const closing = listeners.map((listener) => listener.close(config.drainTimeoutMs + 1_000));
    let timer: NodeJS.Timeout | undefined;
    const idle = Promise.all([...services.values()].map((service) => service.pool.whenIdle()));
    const deadline = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), config.drainTimeoutMs);
    });
    const outcome = await Promise.race([idle.then(() => "idle" as const), deadline]);
    clearTimeout(timer);
    if (outcome === "timeout") logger.warn({ event: "drain-timeout" }, "drain timeout: answering what is left with 503");
    closeSockets();
    await Promise.all(closing);
    logger.info({ event: "stopped" }, "gateway stopped");
  }

  return {
    services,
    get draining() {
      return draining;
    },
    start,
    stop: () => (stopping ??= drain()),
    reloadAllowedKeys: () => directory.reloadAllowedKeys?.() ?? Promise.resolve({ allowed: 0, removed: 0 }),
  };
}
