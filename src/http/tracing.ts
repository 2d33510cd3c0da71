/**
 * One middleware around every public HTTP request: the SERVER span (HTTP semantic
 * conventions, child of the caller's W3C traceparent/tracestate; baggage is extracted into
 * the same context), the request id in the async context for log lines, and the request
 * counter and latency histogram. Mount it after requestId() and before the access log,
 * so the access log line is written inside the span.
 *
 * With no OpenTelemetry SDK registered the span is a non-recording no-op.
 */
import { context, propagation, SpanKind, trace, type Span, type TextMapGetter } from "@opentelemetry/api";
import type { Context as HonoContext, MiddlewareHandler } from "hono";
import { isGatewayError } from "../errors.js";
import { runWithRequestId } from "../telemetry/request-context.js";
import { attributes, markError, TRACER_NAME } from "../telemetry/tracing.js";
import type { RequestRecorder } from "../telemetry/metrics.js";

type Env = { Variables: { requestId: string } };

const headerGetter: TextMapGetter<HonoContext> = {
  keys: (c) => [...c.req.raw.headers.keys()],
  get: (c, key) => c.req.header(key),
};

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);

/** The route template that answered (e.g. /v1/:service/*), undefined when none did. */
function matchedRoute(c: HonoContext): string | undefined {
  const route = c.req.routePath;
  return route && route !== "/*" && route !== "*" ? route : undefined;
}

function endSpan(span: Span, c: HonoContext<Env>, route: string | undefined): void {
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

export function observeRequests(recorder?: RequestRecorder): MiddlewareHandler<Env> {
  const tracer = trace.getTracer(TRACER_NAME);
  return async function observeRequests(c, next) {
    const started = performance.now();
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
        [attributes.requestId]: c.get("requestId"),
      });
      const userAgent = c.req.header("user-agent");
      if (userAgent) span.setAttribute("user_agent.original", userAgent);
    }
    try {
      await context.with(trace.setSpan(parent, span), () => runWithRequestId(c.get("requestId"), next));
    } finally {
      const route = matchedRoute(c);
      if (span.isRecording()) endSpan(span, c, route);
      else span.end();
      if (recorder && route?.startsWith("/v1/")) {
        recorder.recordRequest(c.req.param("service"), method, c.res.status, (performance.now() - started) / 1000);
      }
    }
  };
}
