#!/usr/bin/env -S node --max-semi-space-size=8 --max-old-space-size=1024
/**
 * The composition root and the only file that touches `process`: CLI and environment
 * -> config -> logger -> tracing SDK (only when OTEL_* asks) -> gateway.start();
 * SIGTERM/SIGINT -> drain -> flush spans -> exit 0.
 * With --processes N the first process only supervises N gateway processes (node:cluster,
 * sharing the public port) and passes its signals on; see docs/scaling.md.
 * Exit codes: 0 after a clean stop, 1 on a runtime failure, 2 on bad config or usage.
 */
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { collectDefaultMetrics, Registry } from "prom-client";
import { loadConfig, type Config } from "./config.js";
import { ConfigError } from "./errors.js";
import { createGateway } from "./gateway.js";
import { GATEWAY_NODE_FLAGS } from "./node-flags.js";
import { loadSecrets, type Secrets } from "./secrets.js";
import { createLogger } from "./telemetry/logger.js";
import type { Tracing } from "./telemetry/sdk.js";
import { readTracingSettings, type TracingSettings } from "./telemetry/tracing-settings.js";

const usage = `Usage: zmq-gateway [options]
       zmq-gateway keygen      print a new CURVE key pair (Z85) and exit

An HTTP-to-ZeroMQ gateway: HTTP calls to /v1/{service} go to pools of ZeroMQ REP workers.

Options:
  -c, --config FILE     YAML or JSON config file (env: ZMQ_GATEWAY_CONFIG)
  -p, --port N          public HTTP port (env: ZMQ_GATEWAY_PORT; default 8080)
      --admin-port N    admin API port (env: ZMQ_GATEWAY_ADMIN_PORT; default 9090)
      --log-level L     fatal|error|warn|info|debug|trace|silent (env: ZMQ_GATEWAY_LOG_LEVEL)
      --processes N     run N gateway processes sharing the public port (auto: one per core);
                        process i serves admin on admin.port + i; no service may have a
                        bind or frontend endpoint (one process cannot share them)
  -h, --help            show this help
  -v, --version         show the version

Environment:
  ZMQ_GATEWAY_SERVICES  services and their workers on one line, e.g.
                        echo=tcp://127.0.0.1:5555,tcp://127.0.0.1:5556;files=tcp://127.0.0.1:5557
  OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_EXPORTER, OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER...
                        tracing (OTLP/HTTP) when asked for; see docs/observability.md
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

function fail(message: string, code: number): never {
  process.stderr.write(`zmq-gateway: ${message}\n`);
  process.exit(code);
}

if (process.argv[2] === "keygen") {
  const { curveKeyPair } = await import("zeromq");
  const pair = curveKeyPair();
  process.stdout.write(`ZMQ_GATEWAY_CURVE_PUBLIC_KEY=${pair.publicKey}\nZMQ_GATEWAY_CURVE_SECRET_KEY=${pair.secretKey}\n`);
  process.exit(0);
}

function readConfig(): { config: Config; processes: number } {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        config: { type: "string", short: "c" },
        port: { type: "string", short: "p" },
        "admin-port": { type: "string" },
        "log-level": { type: "string" },
        processes: { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n\n${usage}`, 2);
  }
  if (values.help) {
    process.stdout.write(usage);
    process.exit(0);
  }
  if (values.version) {
    process.stdout.write(`${version()}\n`);
    process.exit(0);
  }
  const env = { ...process.env };
  if (values.port !== undefined) env.ZMQ_GATEWAY_PORT = values.port;
  if (values["admin-port"] !== undefined) env.ZMQ_GATEWAY_ADMIN_PORT = values["admin-port"];
  if (values["log-level"] !== undefined) env.ZMQ_GATEWAY_LOG_LEVEL = values["log-level"];
  const processes = values.processes === "auto" ? availableParallelism() : Number(values.processes ?? "1");
  if (!Number.isInteger(processes) || processes < 1 || processes > 64) fail(`--processes: must be 1 to 64 or auto (got "${values.processes}")`, 2);
  let config: Config;
  try {
    config = loadConfig({ file: values.config, env });
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 2);
    throw error;
  }
  const shared = Object.entries(config.services).filter(([, service]) => service.bind || service.frontend);
  if (processes > 1 && shared.length > 0) {
    const names = shared.map(([name]) => name).join(", ");
    fail(`--processes ${processes}: ${names} has a bind or frontend endpoint, which only one process can own; run replicas of one process each instead (docs/scaling.md)`, 2);
  }
  // A process of a group: its own admin port (admin.port + index; 0 stays 0).
  const index = Number(process.env.ZMQ_GATEWAY_PROCESS_INDEX ?? "0");
  if (cluster.isWorker && config.admin.port !== 0) config = Object.freeze({ ...config, admin: { ...config.admin, port: config.admin.port + index } });
  return { config, processes };
}

/**
 * The primary of `--processes N`: forks N gateway processes (node:cluster shares the
 * public port among them; each has its own ZeroMQ links), passes SIGTERM/SIGINT on, and
 * exits once all have exited: 0 when all exited 0. A process that exits on its own stops
 * the group (exit 1), so the supervisor (Docker, Kubernetes, systemd) restarts it whole.
 * Never resolves: the primary ends by process.exit.
 */
function superviseProcesses(config: Config, count: number): Promise<never> {
  const logger = createLogger(config.log.level, undefined, config.log).child({ process: "primary" });
  let stopping = false;
  let failed = false;
  const stopAll = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) if (worker && !worker.isDead()) worker.process.kill("SIGTERM");
  };
  // The gateway processes get the gateway's V8 flags even when the primary was started
  // without them (`node dist/src/main.js --processes 4`).
  const missing = GATEWAY_NODE_FLAGS.filter((flag) => !process.execArgv.includes(flag));
  cluster.setupPrimary({ execArgv: [...process.execArgv, ...missing] });
  const exits = Array.from({ length: count }, (_, index) => {
    const worker = cluster.fork({ ZMQ_GATEWAY_PROCESS_INDEX: String(index) });
    return new Promise<number | null>((resolve) =>
      worker.once("exit", (code, signal) => {
        if (!stopping) {
          failed = true;
          logger.error({ event: "process-exited", index, code, signal }, "a gateway process exited by itself: stopping the group");
          stopAll();
        }
        resolve(code);
      }),
    );
  });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      logger.info({ event: "signal", signal }, "signal received: stopping the gateway processes");
      stopAll();
    });
  }
  // SIGHUP (reload the CURVE allow-list) goes to every process.
  process.on("SIGHUP", () => {
    for (const worker of Object.values(cluster.workers ?? {})) if (worker && !worker.isDead()) worker.process.kill("SIGHUP");
  });
  logger.info({ event: "processes", processes: count, pid: process.pid }, `started ${count} gateway processes`);
  void Promise.all(exits).then((codes) => {
    const code = !failed && codes.every((exitCode) => exitCode === 0) ? 0 : 1;
    logger.info({ event: "stopped", codes }, "all gateway processes stopped");
    logger.flush(() => process.exit(code));
  });
  return new Promise<never>(() => {});
}

function readTracing(): TracingSettings {
  try {
    return readTracingSettings(process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 2);
    throw error;
  }
}

function readSecrets(config: Config): Secrets {
  try {
    return loadSecrets(config, process.env);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message, 2);
    throw error;
  }
}

const { config, processes } = readConfig();
const tracingSettings = readTracing();
if (cluster.isPrimary && processes > 1) {
  readSecrets(config); // fail fast (exit 2) here rather than in every process
  await superviseProcesses(config, processes);
}
const logger = cluster.isWorker
  ? createLogger(config.log.level, undefined, config.log).child({ process: Number(process.env.ZMQ_GATEWAY_PROCESS_INDEX), pid: process.pid })
  : createLogger(config.log.level, undefined, config.log);
let tracing: Tracing | undefined;
if (tracingSettings.enabled) {
  const { startTracing } = await import("./telemetry/sdk.js");
  tracing = startTracing({ protocol: tracingSettings.protocol, logger, serviceVersion: version() });
}
logger.info({ event: "tracing", ...tracingSettings }, tracingSettings.enabled ? "tracing on" : "tracing off");
const registry = new Registry();
collectDefaultMetrics({ register: registry });
const secrets = readSecrets(config);
const gateway = createGateway(config, logger, { registry, secrets });
process.on("SIGHUP", () => {
  gateway.reloadAllowedKeys().then(
    (result) => logger.info({ event: "curve-reload", ...result }, "CURVE allow-list reloaded"),
    (error: unknown) => logger.error({ err: error }, "CURVE allow-list reload failed"),
  );
});

const exit = (code: number) => logger.flush(() => process.exit(code));

process.on("uncaughtException", (error) => {
  logger.fatal({ err: error }, "uncaught exception");
  exit(1);
});
process.on("unhandledRejection", (error) => {
  logger.fatal({ err: error }, "unhandled rejection");
  exit(1);
});
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    logger.info({ event: "signal", signal }, "signal received");
    gateway
      .stop()
      .then(() => tracing?.shutdown())
      .then(
        () => exit(0),
        (error: unknown) => {
          logger.error({ err: error }, "stop failed");
          exit(1);
        },
      );
  });
}

try {
  await gateway.start();
} catch (error) {
  const message = (error as Error).message;
  logger.fatal({ err: error }, "start failed");
  logger.flush(() => fail(`cannot start: ${message}`, 1));
}
