/**
 * The one middleware around every HTTP request, in one async frame (four nested
 * middlewares cost a Promise and a closure each, per request):
 *
 * - the request id: a well-formed `X-Request-Id` is kept, any other replaced by a UUID;
 *   it goes back on the response, into log lines and to the worker;
 * - the SERVER span (HTTP semantic conventions, child of the caller's W3C traceparent and
 *   tracestate; baggage is extracted into the same context), when `traced`; with no
 *   OpenTelemetry SDK registered it is a non-recording no-op;
 * - the request counter and latency histogram (service routes only);
 * - one access-log line per request, when the response is ready;
 * - `Connection: close` on every response once the gateway drains.
 *
 * Responses made with `respond()` carry their headers in a plain record and keep the
 * server's fast path; this middleware touches `c.res.headers` only for the others.
 */
import { context, propagation, SpanKind, trace, type Span, type TextMapGetter } from "@opentelemetry/api";
import type { Context, MiddlewareHandler } from "hono";
import { isGatewayError } from "../errors.js";
import { createAccessLog } from "../telemetry/access-log.js";
import type { Logger } from "../telemetry/logger.js";
import type { RequestRecorder } from "../telemetry/metrics.js";
import { attributes, markError, TRACER_NAME } from "../telemetry/tracing.js";
import { incomingOf, requestHeader, type GatewayEnv } from "./node-request.js";

export interface LifecycleOptions {
  logger: Logger;
  /** Writes the access line (at info); false turns it off, as nginx's `access_log off`. */
  accessLog?: boolean;
  /** Counts `/v1/` requests; absent on the admin listener. */
  recorder?: RequestRecorder | undefined;
  /** Opens a SERVER span per request. */
  traced?: boolean;
  /** True once the gateway drains. */
  draining?: () => boolean;
}

const MAX_REQUEST_ID_LENGTH = 255;
const REQUEST_ID_SHAPE = /^[\w\-=]+$/;
const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);

const headerGetter: TextMapGetter<Context> = {
  keys: (c) => {
    const incoming = incomingOf(c);
    return incoming ? Object.keys(incoming.headers) : [...c.req.raw.headers.keys()];
  },
  get: (c, key) => requestHeader(c, key.toLowerCase()),
};

/** The caller's id when it is safe to echo and log, else a fresh UUID. */
export function chooseRequestId(offered: string | undefined): string {
  if (offered && offered.length <= MAX_REQUEST_ID_LENGTH && REQUEST_ID_SHAPE.test(offered)) return offered;
  return crypto.randomUUID();
}

/** The route template that answered (e.g. /v1/:service/*), undefined when none did. */
function matchedRoute(c: Context): string | undefined {
  const route = c.req.routePath;
  return route && route !== "/*" && route !== "*" ? route : undefined;
}

function startServerSpan(c: Context<GatewayEnv>, tracer: ReturnType<typeof trace.getTracer>, requestId: string): { span: Span; parent: ReturnType<typeof context.active> } {
  const parent = propagation.extract(context.active(), c, headerGetter);
  const method = c.req.method;
  const span = tracer.startSpan(method, { kind: SpanKind.SERVER }, parent);
  if (span.isRecording()) {
    const url = new URL(c.req.url);
    span.setAttributes({
      "http.request.method": KNOWN_METHODS.has(method) ? method : "_OTHER",
      ...(!KNOWN_METHODS.has(method) && { "http.request.method_original": method }),
      "url.path": url.pathname,
      "url.scheme": url.protocol.slice(0, -1),
      "server.address": url.hostname,
      ...(url.port && { "server.port": Number(url.port) }),
      [attributes.requestId]: requestId,
    });
    const userAgent = requestHeader(c, "user-agent");
    if (userAgent) span.setAttribute("user_agent.original", userAgent);
  }
  return { span, parent };
}

function endServerSpan(span: Span, c: Context<GatewayEnv>, route: string | undefined): void {
  if (!span.isRecording()) {
    span.end();
    return;
  }
  const status = c.res.status;
  span.updateName(route ? `${c.req.method} ${route}` : c.req.method);
  if (route) span.setAttribute("http.route", route);
  span.setAttribute("http.response.status_code", status);
  const service = c.req.param("service");
  if (service !== undefined) span.setAttribute(attributes.service, service);
  if (status >= 500) {
    const error: unknown = c.error;
    if (isGatewayError(error)) markError(span, error.code, error.message);
    else {
      if (error instanceof Error) span.recordException(error);
      markError(span, String(status));
    }
  }
  span.end();
}

export function requestLifecycle(options: LifecycleOptions): MiddlewareHandler<GatewayEnv> {
  const { logger, recorder, traced = false, draining, accessLog = true } = options;
  const tracer = trace.getTracer(TRACER_NAME);
  const writeAccess = accessLog ? createAccessLog(logger) : undefined;
  /** After the handler: span end, metrics, the headers `respond()` did not set, the access line. */
  function finish(c: Context<GatewayEnv>, requestId: string, started: number, span: Span | undefined): void {
    // Set by the service handler: cheaper than asking hono for the matched route.
    const service = c.get("service");
    // Read before the span ends: an ended span no longer reports itself recording.
    const spanContext = span?.isRecording() ? span.spanContext() : undefined;
    if (span) endServerSpan(span, c, matchedRoute(c));
    const status = c.res.status;
    const durationMs = performance.now() - started;
    if (recorder && service !== undefined) recorder.recordRequest(service, c.req.method, status, durationMs / 1000);
    if (c.get("requestIdSent") !== true) c.res.headers.set("x-request-id", requestId);
    if (draining?.()) c.res.headers.set("connection", "close");
    if (!writeAccess) return;
    writeAccess({
      method: c.req.method,
      path: c.req.path,
      service,
      status,
      durationMs: Math.round(durationMs * 1000) / 1000,
      requestId,
      worker: c.get("workerId"),
      traceId: spanContext?.traceId,
      spanId: spanContext?.spanId,
    });
  }

  return async function requestLifecycle(c, next) {
    const started = performance.now();
    const requestId = chooseRequestId(requestHeader(c, "x-request-id"));
    c.set("requestId", requestId);
    const server = traced ? startServerSpan(c, tracer, requestId) : undefined;
    try {
      // The handler runs in the span's context: the pool's CLIENT spans become its children.
      if (server) await context.with(trace.setSpan(server.parent, server.span), next);
      else await next();
    } finally {
      finish(c, requestId, started, server?.span);
    }
  };
}
