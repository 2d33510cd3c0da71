/**
 * Configuration: one zod schema for the file and the environment, validated once at
 * start. Layering is file < environment < CLI flags; defaults live in the schema.
 * A bad value throws ConfigError naming the field and the value (the CLI exits 2).
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ConfigError } from "./errors.js";

/** tcp://host:port or ipc://path; port 0 (bind only) lets the OS choose. */
export const endpointSchema = z
  .string()
  .regex(
    /^(tcp:\/\/(\*|\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}|ipc:\/\/\S+)$/,
    "must be tcp://host:port or ipc://path",
  )
  .refine((value) => !value.startsWith("tcp://") || Number(value.split(":").pop()) <= 65535, {
    message: "port must be at most 65535",
  });

/** A CURVE key in Z85 text form (40 characters). */
export const Z85_KEY_PATTERN = /^[0-9A-Za-z.:+=^!/*?&<>()[\]{}@%$#-]{40}$/;

export const workerModeSchema = z.enum(["plain", "meta"]);
export type WorkerMode = z.infer<typeof workerModeSchema>;

const headerNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "must be an HTTP header name")
  .transform((name) => name.toLowerCase());

/** dns+tcp://name:port: every IPv4 address of `name` is a connect-out worker, re-resolved (src/services/dns-discovery.ts). */
export const DNS_ENDPOINT_PATTERN = /^dns\+tcp:\/\/([A-Za-z0-9.-]+):(\d{1,5})$/;

/** A configured worker: an endpoint, or a DNS name standing for many (not for run-time registration). */
const workerEndpointSchema = z.union(
  [endpointSchema, z.string().regex(DNS_ENDPOINT_PATTERN).refine((value) => /:([1-9]\d{0,4})$/.test(value) && Number(value.split(":").pop()) <= 65535)],
  { error: "must be tcp://host:port, ipc://path or dns+tcp://name:port (port 1 to 65535)" },
);

export const staticWorkerSchema = z.union([
  workerEndpointSchema.transform((endpoint) => ({ endpoint, meta: undefined as boolean | undefined, serverKey: undefined as string | undefined })),
  z.strictObject({
    endpoint: workerEndpointSchema,
    meta: z.boolean().optional(),
    /** The worker's CURVE public key (Z85), needed when curve.enabled. */
    serverKey: z.string().regex(Z85_KEY_PATTERN, "must be a 40-character Z85 key").optional(),
  }),
]);

export const serviceNamePattern = /^[a-z0-9][a-z0-9._-]{0,62}$/;

const serviceSchema = z.strictObject({
  /** Connect-in: REP workers connect to this endpoint. */
  bind: endpointSchema.optional(),
  /** Native front door: a ROUTER for REQ clients. */
  frontend: endpointSchema.optional(),
  /** Connect-out: bound REP workers the gateway connects to. */
  workers: z.array(staticWorkerSchema).default([]),
  /** Default mode of connect-in workers and of connect-out workers that do not say. */
  mode: workerModeSchema.default("plain"),
  timeoutMs: z.number().int().min(1).max(3_600_000).default(30_000),
  maxTimeoutMs: z.number().int().min(1).max(3_600_000).default(300_000),
  maxBodyBytes: z.number().int().min(0).max(1024 ** 3).default(1024 * 1024),
  maxReplyBytes: z.number().int().min(1).max(1024 ** 3).default(16 * 1024 * 1024),
  contentType: z.string().min(1).default("application/octet-stream"),
  /** Request headers forwarded in meta besides content-type and accept. */
  forwardHeaders: z.array(headerNameSchema).default([]),
  /** /readyz fails while this service has no connected worker. */
  required: z.boolean().default(false),
  /** Requests waiting for a free worker; past it: 503 at once. */
  queueLimit: z.number().int().min(0).max(1_000_000).default(10_000),
  /**
   * Requests in flight per worker. A REP worker serves one at a time; the others wait in
   * its socket, so it never idles between requests and messages move in batches. Extra
   * requests go only to a worker whose current one is not stalled (see docs/dispatch.md);
   * 1 turns pipelining off.
   */
  window: z.number().int().min(1).max(256).default(16),
  /** Whether `Set-Cookie` from meta workers reaches the client. */
  allowSetCookie: z.boolean().default(false),
  retry: z
    .strictObject({
      /** Attempts per request, the first included; 1 turns retries off. */
      maxAttempts: z.number().int().min(1).max(5).default(2),
      /** Retries under way at most this share of active requests (Envoy's retry budget)... */
      budgetPercent: z.number().min(0).max(100).default(20),
      /** ...but always at least this many. */
      minRetryConcurrency: z.number().int().min(0).max(1_000).default(3),
      /** Retry an idempotent request whose attempt timed out (needs perTryTimeoutMs). */
      onTimeout: z.boolean().default(false),
      /** Deadline of one attempt; the request's own deadline still bounds the whole. */
      perTryTimeoutMs: z.number().int().min(1).max(3_600_000).optional(),
    })
    .default({ maxAttempts: 2, budgetPercent: 20, minRetryConcurrency: 3, onTimeout: false }),
  /** Outlier detection, as Envoy's: consecutive timeouts eject a worker for a while. */
  outlier: z
    .strictObject({
      consecutiveTimeouts: z.number().int().min(1).max(1_000).default(3),
      /** First ejection; each further ejection of the same worker lasts this times their count. */
      baseEjectionMs: z.number().int().min(1).max(3_600_000).default(5_000),
      maxEjectionMs: z.number().int().min(1).max(3_600_000).default(60_000),
    })
    .default({ consecutiveTimeouts: 3, baseEjectionMs: 5_000, maxEjectionMs: 60_000 }),
});

const portSchema = z.number().int().min(0).max(65535);

const httpSchema = z.strictObject({
  host: z.string().min(1).default("0.0.0.0"),
  port: portSchema.default(8080),
  /** Time to receive the request headers (Node's headersTimeout), ms. */
  headersTimeoutMs: z.number().int().min(1).max(600_000).default(10_000),
  /** Time to receive the whole request (Node's requestTimeout), ms; 0 turns it off. */
  requestTimeoutMs: z.number().int().min(0).max(3_600_000).default(60_000),
  /** Idle keep-alive connections close after this, ms. */
  keepAliveTimeoutMs: z.number().int().min(0).max(600_000).default(5_000),
  /** Largest request head (request line and headers), bytes; larger: 431. */
  maxHeaderBytes: z.number().int().min(1_024).max(1_048_576).default(16_384),
  /** Open connections at most; more are refused by the listener. */
  maxConnections: z.number().int().min(1).max(1_000_000).default(10_000),
});

const adminSchema = z.strictObject({
  host: z.string().min(1).default("127.0.0.1"),
  port: portSchema.default(9090),
  /** File holding the bearer token (env ZMQ_GATEWAY_ADMIN_TOKEN or _FILE also work). */
  tokenFile: z.string().min(1).optional(),
  /**
   * Hosts or CIDRs that run-time registration may point at (e.g. "10.0.0.0/8",
   * "workers.internal", "*.svc.cluster.local"). Empty: any host.
   */
  allowedWorkerHosts: z.array(z.string().min(1)).default([]),
});

const curveSchema = z.strictObject({
  /** CURVE encryption and authentication on every worker link. */
  enabled: z.boolean().default(false),
  /** Files holding the gateway's Z85 keys (or env ZMQ_GATEWAY_CURVE_PUBLIC_KEY / _SECRET_KEY). */
  publicKeyFile: z.string().min(1).optional(),
  secretKeyFile: z.string().min(1).optional(),
  /** Z85 public keys of connect-in workers allowed to connect. */
  allowedKeys: z.array(z.string().regex(Z85_KEY_PATTERN, "must be a 40-character Z85 key")).default([]),
  /** A file with one allowed Z85 public key a line; re-read on SIGHUP or POST /admin/curve/reload. */
  allowedKeysFile: z.string().min(1).optional(),
});

export const configSchema = z
  .strictObject({
    http: httpSchema.default(httpSchema.parse({})),
    admin: adminSchema.default(adminSchema.parse({})),
    curve: curveSchema.default(curveSchema.parse({})),
    /** How long SIGTERM waits for in-flight requests before answering them 503. */
    drainTimeoutMs: z.number().int().min(0).max(600_000).default(10_000),
    /** How long a closing ZeroMQ socket may keep unsent messages. */
    lingerMs: z.number().int().min(0).max(60_000).default(100),
    discovery: z
      .strictObject({
        /** How often dns+tcp:// worker names are resolved again, ms (Envoy's dns_refresh_rate). */
        dnsIntervalMs: z.number().int().min(10).max(3_600_000).default(5_000),
      })
      .default({ dnsIntervalMs: 5_000 }),
    zmq: z
      .strictObject({
        heartbeatIntervalMs: z.number().int().min(0).max(600_000).default(1_000),
        heartbeatTimeoutMs: z.number().int().min(0).max(600_000).default(3_000),
        reconnectIntervalMs: z.number().int().min(1).max(600_000).default(100),
        reconnectMaxIntervalMs: z.number().int().min(0).max(600_000).default(2_000),
        /** libzmq background I/O threads (ZMQ_IO_THREADS); one moves about 100k messages/s. */
        ioThreads: z.number().int().min(1).max(16).default(1),
        /**
         * Scheduling of those threads on Linux: "batch" (SCHED_BATCH) stops a woken I/O thread
         * from preempting the gateway's own thread, so sends and receives go in batches.
         */
        ioThreadScheduling: z.enum(["batch", "normal"]).default("batch"),
      })
      .default({
        heartbeatIntervalMs: 1_000,
        heartbeatTimeoutMs: 3_000,
        reconnectIntervalMs: 100,
        reconnectMaxIntervalMs: 2_000,
        ioThreads: 1,
        ioThreadScheduling: "batch",
      }),
    log: z
      .strictObject({
        level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
        /** Lines are written once this many bytes wait (0: each line at once), as nginx's `buffer=`. */
        bufferBytes: z.number().int().min(0).max(1_048_576).default(4096),
        /** Waiting lines are written at least this often (ms), as nginx's `flush=`. */
        flushIntervalMs: z.number().int().min(1).max(60_000).default(100),
        /** One line per HTTP request at info; false turns it off, as nginx's `access_log off`. */
        access: z.boolean().default(true),
      })
      .default({ level: "info", bufferBytes: 4096, flushIntervalMs: 100, access: true }),
    services: z
      .record(z.string().regex(serviceNamePattern, "service names are [a-z0-9._-]"), serviceSchema)
      .default({}),
  })
  .superRefine((config, context) => {
    for (const [name, service] of Object.entries(config.services)) {
      if (config.curve.enabled) {
        service.workers.forEach((worker, index) => {
          if (!worker.serverKey) {
            context.addIssue({ code: "custom", path: ["services", name, "workers", index, "serverKey"], message: "curve.enabled needs each worker's serverKey", input: worker.endpoint });
          }
        });
      }
      if (service.timeoutMs > service.maxTimeoutMs) {
        context.addIssue({
          code: "custom",
          path: ["services", name, "timeoutMs"],
          message: `must not exceed maxTimeoutMs (${service.maxTimeoutMs})`,
          input: service.timeoutMs,
        });
      }
    }
  });

export type Config = z.infer<typeof configSchema>;
export type ServiceConfig = Config["services"][string];
export type ConfigInput = z.input<typeof configSchema>;

/** Where each value came from, for error messages. */
type Sources = { file?: string };

function describe(path: PropertyKey[], input: unknown): string {
  let value: unknown = input;
  for (const key of path) {
    value = value !== null && typeof value === "object" ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return value === undefined ? "missing" : JSON.stringify(value);
}

/** Validates a raw config object (file and env already merged); throws ConfigError. */
export function parseConfig(raw: unknown, sources: Sources = {}): Config {
  const result = configSchema.safeParse(raw);
  if (result.success) return Object.freeze(result.data);
  const issue = result.error.issues[0];
  if (!issue) throw new ConfigError("invalid configuration");
  const field = issue.path.map(String).join(".") || "(root)";
  const where = sources.file ? ` in ${sources.file}` : "";
  const extra =
    issue.code === "unrecognized_keys" ? ` (unknown key ${issue.keys.map((k) => `"${k}"`).join(", ")})` : "";
  throw new ConfigError(
    `invalid config${where}: ${field}: ${issue.message}${extra} (got ${describe(issue.path, raw)})`,
  );
}

/** Reads a YAML or JSON config file (JSON is YAML); throws ConfigError. */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid YAML or JSON: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file}: the top level must be a mapping`);
  }
  return parsed as Record<string, unknown>;
}

function envInteger(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === "") return undefined;
  if (!/^\d+$/.test(value)) throw new ConfigError(`invalid environment: ${name}: must be a whole number (got "${value}")`);
  return Number(value);
}

/**
 * `ZMQ_GATEWAY_SERVICES=echo=tcp://127.0.0.1:5555,tcp://127.0.0.1:5556;files=tcp://...`:
 * each service with its connect-out workers. A service named here and in the file gets
 * these workers added.
 */
export function parseServicesEnv(value: string): Record<string, { workers: string[] }> {
  const services: Record<string, { workers: string[] }> = {};
  for (const part of value.split(";").map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    if (eq <= 0) {
      throw new ConfigError(`invalid environment: ZMQ_GATEWAY_SERVICES: expected name=endpoint[,endpoint] (got "${part}")`);
    }
    const name = part.slice(0, eq).trim();
    const workers = part.slice(eq + 1).split(",").map((s) => s.trim()).filter(Boolean);
    services[name] = { workers: [...(services[name]?.workers ?? []), ...workers] };
  }
  return services;
}

/** Merges environment overrides into the file's raw object. */
export function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...raw };
  const section = (key: string) => ({ ...((merged[key] as Record<string, unknown> | undefined) ?? {}) });
  const httpPort = envInteger(env, "ZMQ_GATEWAY_PORT");
  if (httpPort !== undefined || env.ZMQ_GATEWAY_HOST) {
    merged.http = { ...section("http"), ...(httpPort !== undefined && { port: httpPort }), ...(env.ZMQ_GATEWAY_HOST && { host: env.ZMQ_GATEWAY_HOST }) };
  }
  const adminPort = envInteger(env, "ZMQ_GATEWAY_ADMIN_PORT");
  if (adminPort !== undefined || env.ZMQ_GATEWAY_ADMIN_HOST) {
    merged.admin = { ...section("admin"), ...(adminPort !== undefined && { port: adminPort }), ...(env.ZMQ_GATEWAY_ADMIN_HOST && { host: env.ZMQ_GATEWAY_ADMIN_HOST }) };
  }
  if (env.ZMQ_GATEWAY_LOG_LEVEL) merged.log = { ...section("log"), level: env.ZMQ_GATEWAY_LOG_LEVEL };
  if (env.ZMQ_GATEWAY_SERVICES) {
    const services = section("services") as Record<string, Record<string, unknown>>;
    for (const [name, extra] of Object.entries(parseServicesEnv(env.ZMQ_GATEWAY_SERVICES))) {
      const existing = services[name] ?? {};
      const workers = Array.isArray(existing.workers) ? (existing.workers as unknown[]) : [];
      services[name] = { ...existing, workers: [...workers, ...extra.workers] };
    }
    merged.services = services;
  }
  return merged;
}

/** File (optional) + environment -> validated, frozen Config. Throws ConfigError. */
export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): Config {
  const env = options.env ?? {};
  const file = options.file ?? (env.ZMQ_GATEWAY_CONFIG || undefined);
  const raw = file ? readConfigFile(file) : {};
  return parseConfig(applyEnv(raw, env), { file });
}
