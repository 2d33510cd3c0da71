/**
 * The gateway's spans, on the OpenTelemetry API only: the entry point may register an SDK
 * (telemetry/sdk.ts); without one (and without a propagator) no span is made at all and
 * no trace field is sent to workers (`tracingActive`).
 *
 *   caller --traceparent--> SERVER "POST /v1/:service/*"    (http/request-lifecycle.ts)
 *   REQ client -----------> SERVER "zmq.frontend {service}" (startFrontDoorSpan)
 *                              `-> CLIENT "zmq.request {service}", one per attempt
 *                                     (createTracingObserver) --meta traceparent--> worker
 *
 * Attribute names and span names are listed in docs/observability.md.
 */
import {
  isSpanContextValid,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from "@opentelemetry/api";
import type { AttemptHandle, AttemptInfo, AttemptOutcome, PoolObserver } from "../services/worker-pool.js";

export const TRACER_NAME = "zmq-gateway";

/** Gateway-specific span attributes (the rest follow the OTel semantic conventions). */
export const attributes = {
  service: "zmq_gateway.service",
  requestId: "zmq_gateway.request_id",
  workerId: "zmq_gateway.worker.id",
  workerEndpoint: "zmq_gateway.worker.endpoint",
  attempt: "zmq_gateway.attempt",
  queueWaitMs: "zmq_gateway.queue_wait_ms",
  outcome: "zmq_gateway.outcome",
  frontendEndpoint: "zmq_gateway.frontend.endpoint",
  status: "zmq_gateway.status",
  errorType: "error.type",
} as const;

/** error.type of a CLIENT span by attempt outcome; undefined: not an error. */
const outcomeErrors: Record<AttemptOutcome, string | undefined> = {
  replied: undefined,
  timeout: "TIMEOUT",
  lost: "WORKER_LOST",
  drained: "DRAINING",
  "send-failed": "SEND_FAILED",
  cancelled: undefined,
};

/** A proxy: it finds the SDK's tracer once one is registered, and is a no-op before. */
const tracer = trace.getTracer(TRACER_NAME);

/** The API's no-op provider: what the global proxy provider delegates to until an SDK registers. */
const NOOP_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether a request can yield spans or trace context: an SDK's tracer provider is
 * registered, or at least a propagator (then the caller's trace context passes through to
 * meta workers on non-recording spans). With neither, every span would be a no-op with no
 * context to carry, and the hot path skips the span machinery altogether: extracting,
 * starting, wrapping the context, injecting and ending cost a few microseconds and about
 * 1 KB of garbage per request. Checked per request (two global lookups), so an SDK
 * registered after the gateway started is still picked up.
 */
export function tracingActive(): boolean {
  const provider = trace.getTracerProvider();
  if (!(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_PROVIDER) return true;
  return propagation.fields().length > 0;
}

/** The caller context a job carries, when it is an OTel Context; the root context otherwise. */
function asContext(value: unknown): Context {
  if (value !== null && typeof value === "object" && typeof (value as Partial<Context>).getValue === "function") {
    return value as Context;
  }
  return ROOT_CONTEXT;
}

/** server.address/server.port/network.transport of a ZeroMQ endpoint. */
export function endpointAttributes(endpoint: string): Attributes {
  const tcp = /^tcp:\/\/\[?([^\]]*?)\]?:(\d+)$/.exec(endpoint);
  if (tcp) return { "server.address": tcp[1], "server.port": Number(tcp[2]), "network.transport": "tcp" };
  if (endpoint.startsWith("ipc://")) return { "server.address": endpoint.slice("ipc://".length), "network.transport": "unix" };
  return {};
}

/** Marks a span failed with `error.type` (a GatewayError code or an HTTP status). */
export function markError(span: Span, errorType: string, message?: string): void {
  span.setAttribute(attributes.errorType, errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, ...(message !== undefined && { message }) });
}

/**
 * A PoolObserver that opens one CLIENT span per attempt, child of the context the job
 * carries (the request's SERVER span), and hands its traceparent/tracestate to the pool
 * for meta workers. With no SDK (and no propagator) registered it returns no handle at all.
 *
 * A span that does not record (sampled out) matters only as trace context for a meta
 * worker, so for a plain worker, which never sees trace fields, no handle is made; nor is
 * a traceparent, whatever the span. With a ratio sampler most requests take that path:
 * side by side with tracing off, a gateway whose sampler recorded nothing spent 1.20x the
 * CPU per request before this and 1.10x after (docs/benchmarks.md, the tenth session).
 */
export function createTracingObserver(): PoolObserver {
  return {
    attemptStarted(info: AttemptInfo): AttemptHandle | undefined {
      if (!tracingActive()) return undefined;
      const parent = asContext(info.context);
      const span = tracer.startSpan(`zmq.request ${info.service}`, { kind: SpanKind.CLIENT }, parent);
      const recording = span.isRecording();
      const meta = info.mode === "meta";
      if (!recording && !(meta && isSpanContextValid(span.spanContext()))) return undefined;
      if (recording) {
        span.setAttributes({
          [attributes.service]: info.service,
          [attributes.workerId]: info.workerId,
          [attributes.workerEndpoint]: info.endpoint,
          [attributes.attempt]: info.attempt,
          [attributes.queueWaitMs]: Math.round(info.queuedMs * 1000) / 1000,
          ...endpointAttributes(info.endpoint),
        });
      }
      const carrier: { traceparent?: string; tracestate?: string } = {};
      if (meta) propagation.inject(trace.setSpan(parent, span), carrier);
      return {
        traceparent: carrier.traceparent,
        tracestate: carrier.tracestate,
        end(outcome) {
          span.setAttribute(attributes.outcome, outcome);
          const errorType = outcomeErrors[outcome];
          if (errorType !== undefined) markError(span, errorType, `attempt ended: ${outcome}`);
          span.end();
        },
      };
    },
  };
}

/** The span of one call through a ROUTER front door; `context` is what the call runs in. */
export interface FrontDoorSpan {
  readonly context: Context;
  /** Ends the span with the status the client got; 5xx marks it failed with `errorCode`. */
  end(status: number, errorCode?: string): void;
}

/**
 * Opens the SERVER span of a REQ client's call to `service` through its front door. REQ
 * clients send raw frames, so the span starts a new trace.
 */
export function startFrontDoorSpan(service: string, endpoint: string): FrontDoorSpan {
  const span = tracer.startSpan(`zmq.frontend ${service}`, { kind: SpanKind.SERVER, root: true }, ROOT_CONTEXT);
  if (span.isRecording()) span.setAttributes({ [attributes.service]: service, [attributes.frontendEndpoint]: endpoint });
  return {
    context: trace.setSpan(ROOT_CONTEXT, span),
    end(status, errorCode) {
      span.setAttribute(attributes.status, status);
      if (status >= 500) markError(span, errorCode ?? String(status));
      span.end();
    },
  };
}
