/**
 * What happens around every HTTP request, in one async frame (four nested middlewares
 * would cost a Promise and a closure each, per request), as middleware or as a wrapper
 * around one route handler:
 *
 * - the request id: a well-formed `X-Request-Id` is kept, any other replaced by a UUID;
 *   it goes back on the response, into log lines and to the worker;
 * - the SERVER span (HTTP semantic conventions, child of the caller's W3C traceparent and
 *   tracestate; baggage is extracted into the same context), when `traced` and an
 *   OpenTelemetry SDK or propagator is registered (`tracingActive()`);
 * - the request counter and latency histogram (service routes only);
 * - one access-log line per request, when the response is ready;
 * - `Connection: close` on every response once the gateway drains.
 *
 * Responses made with `respond()` carry their headers in a plain record and keep the
 * server's fast path; the lifecycle touches a response's `headers` only for the others.
 */
import { context, propagation, SpanKind, trace, type Context as OtelContext, type Span, type TextMapGetter } from "@opentelemetry/api";
import type { Context, MiddlewareHandler } from "hono";
import { isGatewayError } from "../errors.js";
import { createAccessLog } from "../telemetry/access-log.js";
import type { Logger } from "../telemetry/logger.js";
import type { RequestRecorder } from "../telemetry/metrics.js";
import { attributes, markError, TRACER_NAME, tracingActive } from "../telemetry/tracing.js";
import { incomingOf, requestHeader, type GatewayEnv } from "./node-request.js";
import { chooseRequestId } from "./request-id.js";

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

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);

const headerGetter: TextMapGetter<Context> = {
  keys: (c) => {
    const incoming = incomingOf(c);
    return incoming ? Object.keys(incoming.headers) : [...c.req.raw.headers.keys()];
  },
  get: (c, key) => requestHeader(c, key.toLowerCase()),
};

/** The route template that answered (e.g. /v1/:service/*), undefined when none did. */
function matchedRoute(c: Context): string | undefined {
  const route = c.req.routePath;
  return route && route !== "/*" && route !== "*" ? route : undefined;
}

interface ServerSpan {
  span: Span;
  /** The caller's context (its traceparent, tracestate and baggage): the span's parent. */
  parent: OtelContext;
}

function startServerSpan(c: Context<GatewayEnv>, tracer: ReturnType<typeof trace.getTracer>, requestId: string): ServerSpan {
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

function endServerSpan(span: Span, c: Context<GatewayEnv>, status: number, error: unknown, route: string | undefined): void {
  if (!span.isRecording()) {
    span.end();
    return;
  }
  span.updateName(route ? `${c.req.method} ${route}` : c.req.method);
  if (route) span.setAttribute("http.route", route);
  span.setAttribute("http.response.status_code", status);
  const service = c.req.param("service");
  if (service !== undefined) span.setAttribute(attributes.service, service);
  if (status >= 500) {
    if (isGatewayError(error)) markError(span, error.code, error.message);
    else {
      if (error instanceof Error) span.recordException(error);
      markError(span, String(status));
    }
  }
  span.end();
}

/** What a handler does with an error it throws: the app's problem+json answer. */
export type ErrorAnswer = (error: unknown, c: Context<GatewayEnv>) => Response;

export type RouteHandler = (c: Context<GatewayEnv>) => Response | Promise<Response>;

export interface Lifecycle {
  /** As hono middleware, for apps whose routes run behind other middleware (the admin API). */
  middleware: MiddlewareHandler<GatewayEnv>;
  /**
   * Around one handler, for the public routes: hono calls a route that has a single handler
   * directly, where any `app.use()` middleware puts it behind a compose chain (a dispatch
   * closure, a Promise and about 1.5 KB of garbage per request). A thrown error is answered
   * by `onError` inside the wrapper, so that answer gets its access line too.
   */
  wrap(handler: RouteHandler, onError: ErrorAnswer): (c: Context<GatewayEnv>) => Promise<Response>;
}

export function createLifecycle(options: LifecycleOptions): Lifecycle {
  const { logger, recorder, traced = false, draining, accessLog = true } = options;
  const tracer = trace.getTracer(TRACER_NAME);
  const writeAccess = accessLog ? createAccessLog(logger) : undefined;

  /** Chooses and records the request id (two functions, not one returning a pair: no record per request). */
  function start(c: Context<GatewayEnv>): string {
    const requestId = chooseRequestId(requestHeader(c, "x-request-id"));
    c.set("requestId", requestId);
    return requestId;
  }

  function serverSpan(c: Context<GatewayEnv>, requestId: string): ServerSpan | undefined {
    return traced && tracingActive() ? startServerSpan(c, tracer, requestId) : undefined;
  }

  /**
   * The context the handler runs in: the SERVER span's, so the pool's CLIENT spans become
   * its children. Also set on `c` for the service call: the active context ends at the
   * handler's first `await` (telemetry/context-manager.ts).
   */
  function enter(c: Context<GatewayEnv>, server: ServerSpan): OtelContext {
    const traceContext = trace.setSpan(server.parent, server.span);
    c.set("traceContext", traceContext);
    return traceContext;
  }

  /** After the handler: span end, metrics, the headers `respond()` did not set, the access line. */
  function finish(c: Context<GatewayEnv>, res: Response, error: unknown, requestId: string, started: number, server: ServerSpan | undefined): void {
    // Set by the service handler: cheaper than asking hono for the matched route.
    const service = c.get("service");
    const status = res.status;
    // Read before the span ends: an ended span no longer reports itself recording.
    const spanContext = server?.span.isRecording() ? server.span.spanContext() : undefined;
    if (server) endServerSpan(server.span, c, status, error, matchedRoute(c));
    const durationMs = performance.now() - started;
    if (recorder && service !== undefined) recorder.recordRequest(service, c.req.method, status, durationMs / 1000);
    if (c.get("requestIdSent") !== true) res.headers.set("x-request-id", requestId);
    if (draining?.()) res.headers.set("connection", "close");
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

  return {
    async middleware(c, next) {
      const started = performance.now();
      const requestId = start(c);
      const server = serverSpan(c, requestId);
      try {
        const traceContext = server && enter(c, server);
        if (traceContext) await context.with(traceContext, next);
        else await next();
      } finally {
        finish(c, c.res, c.error, requestId, started, server);
      }
    },
    wrap(handler, onError) {
      return async function withLifecycle(c) {
        const started = performance.now();
        const requestId = start(c);
        const server = serverSpan(c, requestId);
        let res: Response;
        let failure: unknown;
        try {
          const traceContext = server && enter(c, server);
          res = await (traceContext ? context.with(traceContext, handler, undefined, c) : handler(c));
        } catch (error) {
          failure = error;
          res = onError(error, c);
        }
        finish(c, res, failure, requestId, started, server);
        return res;
      };
    },
  };
}
