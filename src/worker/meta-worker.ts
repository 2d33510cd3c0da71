/**
 * A meta-mode REP worker for TypeScript: one socket, one receive loop, one request at a
 * time (REP). Each request's meta frame gives method, path, headers, request id, deadline
 * and the gateway CLIENT span's traceparent/tracestate; the handler runs inside a SERVER
 * (or CONSUMER) span that continues that trace, and what it returns becomes the reply
 * frames: [body] or [body, {"status", "headers"}].
 *
 * Depends on @opentelemetry/api only: register an SDK in the worker's entry point to
 * export its spans (examples/traced-worker.ts); without one the spans are no-ops.
 * A request that arrives without meta (a service in plain mode) is served too, and
 * answered with the body alone.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import { Reply } from "zeromq";
import { REQUEST_META_KIND, type RequestMeta } from "../protocol/meta.js";

export interface WorkerRequest {
  body: Buffer;
  /** The HTTP method; "" when the request came without meta. */
  method: string;
  /** Path below the service prefix, starting with "/". */
  path: string;
  /** Raw query string without "?"; "" when none. */
  query: string;
  /** Lower-case names: content-type, accept and the service's forwarded headers. */
  headers: Record<string, string>;
  requestId: string | undefined;
  /** Milliseconds the gateway was still going to wait when it sent the request. */
  deadlineMs: number | undefined;
  /** Aborts when the gateway's deadline has passed (its answer then goes nowhere); made on first use. */
  readonly signal: AbortSignal | undefined;
  /** The request meta as received; undefined in plain mode. */
  meta: RequestMeta | undefined;
}

export type ReplyBody = Buffer | Uint8Array | string;

export interface WorkerResponse {
  body?: ReplyBody;
  /** HTTP status the gateway answers with (200..599); 200 when absent. */
  status?: number;
  headers?: Record<string, string | string[]>;
}

export type WorkerHandler = (request: WorkerRequest) => WorkerResponse | ReplyBody | Promise<WorkerResponse | ReplyBody>;

export interface WorkerOptions {
  /** Bind a REP socket here (the gateway connects out to it), e.g. tcp://127.0.0.1:5555. */
  bind?: string;
  /** Or connect to a service's connect-in endpoint. */
  connect?: string;
  /** Name of the span around each request; "zmq.worker" by default. */
  spanName?: string;
  /** SERVER (default) or CONSUMER. */
  spanKind?: "server" | "consumer";
  /** How long closing may keep unsent replies, ms. */
  lingerMs?: number;
  /** Called with what a handler threw (its request is answered 500) or why the socket loop failed. */
  onError?: (error: unknown, request?: WorkerRequest) => void;
}

const TRACER_NAME = "zmq-gateway/worker";

function parseMeta(frame: Buffer | undefined): RequestMeta | undefined {
  if (!frame) return undefined;
  try {
    const meta = JSON.parse(frame.toString("utf8")) as Partial<RequestMeta> | null;
    return meta !== null && typeof meta === "object" && meta.kind === REQUEST_META_KIND ? (meta as RequestMeta) : undefined;
  } catch {
    return undefined;
  }
}

function toRequest(frames: Buffer[]): WorkerRequest {
  const meta = parseMeta(frames[1]);
  const deadlineMs = typeof meta?.deadlineMs === "number" ? meta.deadlineMs : undefined;
  let signal: AbortSignal | undefined;
  return {
    body: frames[0] ?? Buffer.alloc(0),
    method: meta?.method ?? "",
    path: meta?.path ?? "/",
    query: meta?.query ?? "",
    headers: meta?.headers ?? {},
    requestId: meta?.requestId,
    deadlineMs,
    get signal() {
      if (deadlineMs !== undefined) signal ??= AbortSignal.timeout(Math.max(1, deadlineMs));
      return signal;
    },
    meta,
  };
}

function isResponse(value: WorkerResponse | ReplyBody): value is WorkerResponse {
  return typeof value === "object" && !(value instanceof Uint8Array);
}

/** The reply frames for a request: meta mode may carry status and headers, plain mode the body alone. */
export function replyFrames(result: WorkerResponse | ReplyBody, metaMode: boolean): Buffer[] {
  const response = isResponse(result) ? result : { body: result };
  const body = response.body === undefined ? Buffer.alloc(0) : Buffer.from(response.body);
  if (!metaMode || (response.status === undefined && response.headers === undefined)) return [body];
  const replyMeta = { ...(response.status !== undefined && { status: response.status }), ...(response.headers && { headers: response.headers }) };
  return [body, Buffer.from(JSON.stringify(replyMeta))];
}

export class MetaWorker {
  /** The bound endpoint (port 0 resolved) or the endpoint connected to. */
  endpoint: string;
  /** Resolves when the receive loop has ended (after close()). */
  readonly done: Promise<void>;
  private readonly socket: Reply;
  private readonly handler: WorkerHandler;
  private readonly options: WorkerOptions;
  private readonly tracer = trace.getTracer(TRACER_NAME);
  private closed = false;
  private finish: () => void = () => undefined;

  private constructor(handler: WorkerHandler, options: WorkerOptions) {
    this.handler = handler;
    this.options = options;
    this.endpoint = options.bind ?? options.connect ?? "";
    this.socket = new Reply({ linger: options.lingerMs ?? 0 });
    this.done = new Promise((resolve) => (this.finish = resolve));
  }

  /** Binds or connects, then serves until close(). Rejects if the bind fails. */
  static async start(handler: WorkerHandler, options: WorkerOptions): Promise<MetaWorker> {
    if ((options.bind === undefined) === (options.connect === undefined)) throw new TypeError("give exactly one of bind or connect");
    const worker = new MetaWorker(handler, options);
    try {
      if (options.bind !== undefined) {
        await worker.socket.bind(options.bind);
        worker.endpoint = worker.socket.lastEndpoint ?? options.bind;
      } else {
        worker.socket.connect(worker.endpoint);
      }
    } catch (error) {
      worker.socket.close();
      throw error;
    }
    void worker.serve();
    return worker;
  }

  private async serve(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        const reply = await this.answer(frames);
        await this.socket.send(reply);
      }
    } catch (error) {
      if (!this.closed) this.options.onError?.(error);
    } finally {
      this.finish();
    }
  }

  private async answer(frames: Buffer[]): Promise<Buffer[]> {
    const request = toRequest(frames);
    const meta = request.meta;
    const parent = propagation.extract(ROOT_CONTEXT, { traceparent: meta?.traceparent, tracestate: meta?.tracestate });
    const kind = this.options.spanKind === "consumer" ? SpanKind.CONSUMER : SpanKind.SERVER;
    const span = this.tracer.startSpan(this.options.spanName ?? "zmq.worker", { kind }, parent);
    if (span.isRecording() && meta) {
      span.setAttributes({
        "http.request.method": meta.method,
        "url.path": meta.path,
        ...(meta.requestId && { "zmq_gateway.request_id": meta.requestId }),
        ...(request.deadlineMs !== undefined && { "zmq_gateway.deadline_ms": request.deadlineMs }),
      });
    }
    let result: WorkerResponse | ReplyBody;
    try {
      result = await context.with(trace.setSpan(parent, span), () => this.handler(request));
    } catch (error) {
      this.options.onError?.(error, request);
      if (error instanceof Error) span.recordException(error);
      result = { status: 500, body: "internal error" };
      endSpan(span, 500, error instanceof Error ? error.name : "Error");
      return replyFrames(result, meta !== undefined);
    }
    const status = isResponse(result) ? (result.status ?? 200) : 200;
    endSpan(span, status);
    return replyFrames(result, meta !== undefined);
  }

  /** Stops serving; a request being handled is not answered. */
  close(): void {
    this.closed = true;
    this.socket.close();
  }
}

function endSpan(span: Span, status: number, errorType = String(status)): void {
  span.setAttribute("http.response.status_code", status);
  if (status >= 500) {
    span.setAttribute("error.type", errorType);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** Starts a meta-mode worker; see MetaWorker. */
export function serveWorker(handler: WorkerHandler, options: WorkerOptions): Promise<MetaWorker> {
  return MetaWorker.start(handler, options);
}
