/**
 * A named service: its configuration, its worker pool, and the two ways to call it
 * (an HTTP-shaped call with meta, and raw frames from the native front door). Knows
 * nothing about HTTP objects or sockets.
 */
import type { ServiceConfig } from "../config.js";
import { GatewayError } from "../errors.js";
import type { CorrelationIds } from "../protocol/frames.js";
import { encodeRequestMeta, type RequestMeta } from "../protocol/meta.js";
import { decodeReply, type DecodedReply, type DecodeOptions } from "../protocol/reply.js";
import type { Logger } from "../telemetry/logger.js";
import { DnsDiscovery, parseDnsEndpoint, resolveWithLookup, type DiscoverySettings } from "./dns-discovery.js";
import type { LinkOptions } from "./worker-link.js";
import { WorkerPool, type Job, type JobResult, type PoolObserver } from "./worker-pool.js";

/** The parts of an HTTP request a meta worker sees besides its method and body. */
export interface RequestTarget {
  /** The path below /v1/{service}, always starting with "/". */
  path: string;
  /** The query string without "?", "" when none. */
  query: string;
  /** The forwarded request headers, lower-case names. */
  headers: Record<string, string>;
}

/** What the HTTP layer hands to a service: the request, already read and limited. */
export interface ServiceCall {
  body: Buffer;
  method: string;
  /** Built only when a meta worker gets the call: a plain worker sees the body alone. */
  target(): RequestTarget;
  requestId: string;
  /** Milliseconds the caller will wait, already capped by the service maximum. */
  timeoutMs: number;
  idempotent: boolean;
  /** See Job.cancellable: how the caller cancels the call when its client goes away. */
  cancellable?: ((cancel: () => void) => void) | undefined;
  /** Opaque caller context (the trace context of the HTTP request), passed to the pool observer. */
  context?: unknown;
}

export interface ServiceReply extends DecodedReply {
  workerId: string;
  attempts: number;
}

export class Service {
  readonly name: string;
  readonly config: ServiceConfig;
  readonly pool: WorkerPool;
  badReplies = 0;
  private readonly logger: Logger | undefined;
  private readonly discoveries: DnsDiscovery[] = [];
  private readonly decodeOptions: DecodeOptions;

  constructor(name: string, config: ServiceConfig, ids: CorrelationIds, link: LinkOptions, observer?: PoolObserver, logger?: Logger) {
    this.name = name;
    this.config = config;
    this.logger = logger;
    this.decodeOptions = { allowSetCookie: config.allowSetCookie };
    this.pool = new WorkerPool(
      { name, observer, window: config.window, queueLimit: config.queueLimit, retry: config.retry, outlier: config.outlier, link },
      ids,
      logger,
    );
  }

  /**
   * Binds the connect-in endpoint and connects to the configured workers; a dns+tcp://
   * entry starts its discovery (resolved once before this resolves, then on an interval).
   */
  async start(discovery: DiscoverySettings = { intervalMs: 5_000, resolve: resolveWithLookup }): Promise<void> {
    if (this.config.bind) await this.pool.addWorker("in", this.config.bind, this.config.mode, "connect-in");
    for (const worker of this.config.workers) {
      const mode = worker.meta === undefined ? this.config.mode : worker.meta ? "meta" : "plain";
      if (parseDnsEndpoint(worker.endpoint)) {
        const target = { service: this.name, endpoint: worker.endpoint, mode, extras: { serverKey: worker.serverKey } } as const;
        const found = new DnsDiscovery(this.pool, target, discovery, this.logger);
        this.discoveries.push(found);
        await found.start();
        continue;
      }
      await this.pool.addWorker("out", worker.endpoint, mode, "config", { serverKey: worker.serverKey });
    }
  }

  /** Stops re-resolving dns+tcp:// workers (drain); the workers found stay until the pool closes. */
  stopDiscovery(): void {
    for (const discovery of this.discoveries) discovery.stop();
  }

  /** The deadline (performance.now() clock) for a caller-supplied timeout. */
  effectiveTimeoutMs(requestedMs: number | undefined): number {
    if (requestedMs === undefined) return this.config.timeoutMs;
    return Math.min(requestedMs, this.config.maxTimeoutMs);
  }

  /**
   * An HTTP-shaped call. Rejects with GatewayError; a bad reply is BAD_REPLY (502). Not an
   * async function awaiting `pool.submit`: the pool's callbacks settle this one Promise,
   * which saves a Promise and a microtask hop per request on the hot path.
   */
  call(call: ServiceCall): Promise<ServiceReply> {
    const job: Job = {
      deadline: performance.now() + call.timeoutMs,
      idempotent: call.idempotent,
      cancellable: call.cancellable,
      context: call.context,
      requestId: call.requestId,
      encode: (mode, deadlineMs, trace) => {
        if (mode === "plain") return [call.body];
        const { path, query, headers } = call.target();
        const meta: RequestMeta = {
          v: 1,
          kind: "zmq-gateway.request",
          method: call.method,
          path,
          query,
          headers,
          requestId: call.requestId,
          deadlineMs,
          ...(trace?.traceparent && { traceparent: trace.traceparent }),
          ...(trace?.tracestate && { tracestate: trace.tracestate }),
        };
        return [call.body, encodeRequestMeta(meta)];
      },
    };
    return new Promise<ServiceReply>((resolve, reject) => {
      this.pool.enqueue(
        job,
        (result) => {
          const reply = this.replyOf(result);
          if (reply instanceof GatewayError) reject(reply);
          else resolve(reply);
        },
        reject,
      );
    });
  }

  /** The worker's payload as an HTTP-shaped reply, or the GatewayError it earns. */
  private replyOf(result: JobResult): ServiceReply | GatewayError {
    let size = 0;
    for (const frame of result.payload) size += frame.length;
    if (size > this.config.maxReplyBytes) {
      this.badReplies++;
      return new GatewayError("REPLY_TOO_LARGE", `the worker's reply (${size} bytes) exceeds maxReplyBytes (${this.config.maxReplyBytes})`);
    }
    const decoded = decodeReply(result.payload, result.mode, this.decodeOptions);
    if (!decoded.ok) {
      this.badReplies++;
      return new GatewayError("BAD_REPLY", decoded.reason);
    }
    // A literal, not `{ ...decoded, ... }`: objects made by spread were promoted to the old
    // generation (~280 B per request, measured with --trace-gc-nvp), and from there kept
    // the reply's young body and headers alive for the next scavenges as well.
    return { ok: true, status: decoded.status, body: decoded.body, headers: decoded.headers, workerId: result.workerId, attempts: result.attempts };
  }

  /** Native front door: frames go to a worker unchanged and its reply frames come back unchanged. */
  async forward(frames: Buffer[], context?: unknown, timeoutMs = this.config.timeoutMs): Promise<Buffer[]> {
    const result = await this.pool.submit({
      deadline: performance.now() + timeoutMs,
      idempotent: false,
      context,
      encode: () => frames,
    });
    return result.payload;
  }
}
