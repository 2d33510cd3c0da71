/**
 * Cheap access to the Node request under a hono Context. On @hono/node-server,
 * `c.req.header()` builds a WHATWG Headers object from the whole request on first use
 * (several microseconds), and `c.body()` with more than one header builds another for the
 * response, which also takes the server off its fast write path. The hot path reads
 * Node's own `IncomingMessage.headers` and answers with a plain header record instead.
 * Under `app.request()` (no Node server) both fall back to the WHATWG objects.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Context as OtelContext } from "@opentelemetry/api";
import type { Context } from "hono";

/** The Node request, when the app runs on @hono/node-server. */
export function incomingOf(c: Context): IncomingMessage | undefined {
  return (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
}

/** The Node response, when the app runs on @hono/node-server. */
export function outgoingOf(c: Context): ServerResponse | undefined {
  return (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
}

/**
 * A request header by lower-case name. Repeated headers come joined with ", " (Node's
 * rule, and the WHATWG one), except that Node keeps only the first of a few singletons.
 */
export function requestHeader(c: Context, lowerCaseName: string): string | undefined {
  const incoming = incomingOf(c);
  if (!incoming) return c.req.header(lowerCaseName);
  const value = incoming.headers[lowerCaseName];
  return Array.isArray(value) ? value.join(", ") : value;
}

/** The context variables every gateway app shares. */
export type GatewayEnv = {
  Variables: {
    requestId: string;
    /** Set by `respond()`: X-Request-Id is on the response already. */
    requestIdSent: boolean;
    /** The worker that answered, for the access log. */
    workerId: string;
    /** The service named in a /v1/ URL, set by its handler (metrics and the access line). */
    service: string;
    /**
     * The SERVER span's context, set by the request lifecycle when tracing is active: the
     * service call carries it explicitly, since the gateway's context manager does not
     * follow an `await` (telemetry/context-manager.ts).
     */
    traceContext: OtelContext;
  };
};

/**
 * A response with a plain header record (the server's fast path) that already carries
 * the request id, so the request lifecycle need not add it afterwards.
 */
export function respond(c: Context<GatewayEnv>, body: Uint8Array | string | null, status: number, headers: OutgoingHttpHeaders): Response {
  const requestId = c.get("requestId");
  if (requestId !== undefined) {
    headers["x-request-id"] = requestId;
    c.set("requestIdSent", true);
  }
  return new Response(body, { status, headers: headers as Record<string, string> });
}
