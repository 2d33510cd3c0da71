/**
 * The public HTTP front door: `ANY /v1/{service}[/{path...}]` calls a service;
 * `/healthz` and `/readyz` report liveness and readiness. HTTP in, ServiceCall out:
 * this file never touches a socket.
 */
import type { OutgoingHttpHeaders } from "node:http";
import { Hono, type Context } from "hono";
import { GatewayError } from "../errors.js";
import type { Service, ServiceCall } from "../services/service.js";
import type { Logger } from "../telemetry/logger.js";
import type { RequestRecorder } from "../telemetry/metrics.js";
import { requestHeader, respond, type GatewayEnv } from "./node-request.js";
import { cancelWhenClientGoes, NO_BODY, readBody } from "./read-body.js";
import { errorHandler, problemResponse } from "./problem-response.js";
import { createLifecycle, type RouteHandler } from "./request-lifecycle.js";
import { parseTimeoutHeader, TIMEOUT_HEADER } from "./timeout-header.js";

/** What the HTTP layer needs from the gateway. */
export interface ServiceDirectory {
  service(name: string): Service | undefined;
  services(): Iterable<Service>;
  readonly draining: boolean;
}

const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);
const ALWAYS_FORWARDED = ["content-type", "accept"];

function forwardedHeaders(c: Context, names: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of names) {
    const value = requestHeader(c, name);
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}

function pathBelowService(path: string, name: string): string {
  const rest = path.slice(`/v1/${name}`.length);
  return rest.startsWith("/") ? rest : `/${rest}`;
}

export interface PublicAppOptions {
  /** One access line per request (config `log.access`); on by default. */
  accessLog?: boolean;
}

export function createPublicApp(directory: ServiceDirectory, logger: Logger, metrics?: RequestRecorder, options: PublicAppOptions = {}): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  /** Lower-case header names forwarded to meta workers, per service, computed once. */
  const forwardedNames = new Map<Service, readonly string[]>();
  const forwardedNamesOf = (service: Service): readonly string[] => {
    let names = forwardedNames.get(service);
    if (!names) {
      names = [...new Set([...ALWAYS_FORWARDED, ...service.config.forwardHeaders.map((name) => name.toLowerCase())])];
      forwardedNames.set(service, names);
    }
    return names;
  };

  // Each route is wrapped rather than put behind `app.use()`: see Lifecycle.wrap.
  const lifecycle = createLifecycle({ logger, recorder: metrics, traced: true, draining: () => directory.draining, accessLog: options.accessLog });
  const onError = errorHandler(logger);
  const handle = (handler: RouteHandler) => lifecycle.wrap(handler, onError);
  app.onError(onError);
  app.notFound(handle((c) => problemResponse(c, new GatewayError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`))));

  app.get("/healthz", handle((c) => c.json({ status: "ok" })));
  const readiness = (c: Context<GatewayEnv>): Response => {
    const missing = [...directory.services()]
      .filter((service) => service.config.required && service.pool.connectedWorkers === 0)
      .map((service) => service.name);
    if (directory.draining) return c.json({ status: "draining", reason: "the gateway is shutting down" }, 503);
    if (missing.length > 0) {
      return c.json({ status: "not ready", reason: `no connected worker for required service(s): ${missing.join(", ")}`, services: missing }, 503);
    }
    return c.json({ status: "ready" });
  };
  app.get("/readyz", handle(readiness));

  const callService = async (c: Context<GatewayEnv>): Promise<Response> => {
    const name = c.req.param("service") ?? "";
    c.set("service", name);
    const service = directory.service(name);
    if (!service) throw new GatewayError("UNKNOWN_SERVICE", `no service named "${name}"`);
    if (directory.draining) return problemResponse(c, new GatewayError("DRAINING"), { connection: "close" });
    const method = c.req.method;
    const requested = parseTimeoutHeader(requestHeader(c, TIMEOUT_HEADER));
    // The whole body is read and within the limit before anything reaches a worker. GET and
    // HEAD send none, but a body they carry is still read (and dropped) first, so a request
    // whose framing fails after its head (`Transfer-Encoding: xchunked`) never reaches one.
    let body: Buffer = NO_BODY;
    if (method !== "GET" && method !== "HEAD") body = await readBody(c, service.config.maxBodyBytes);
    else if (requestHeader(c, "content-length") !== undefined || requestHeader(c, "transfer-encoding") !== undefined) await readBody(c, service.config.maxBodyBytes);
    const call: ServiceCall = {
      body,
      method,
      target: () => {
        const url = c.req.url;
        const queryStart = url.indexOf("?");
        return {
          path: pathBelowService(c.req.path, service.name),
          query: queryStart >= 0 ? url.slice(queryStart + 1) : "",
          headers: forwardedHeaders(c, forwardedNamesOf(service)),
        };
      },
      requestId: c.get("requestId"),
      timeoutMs: service.effectiveTimeoutMs(requested),
      idempotent: IDEMPOTENT_METHODS.has(method) || requestHeader(c, "idempotency-key") !== undefined,
      cancellable: cancelWhenClientGoes(c),
      // Explicit: the active context does not survive the body read's `await`.
      context: c.get("traceContext"),
    };
    const reply = await service.call(call);
    c.set("workerId", reply.workerId);
    // 204, 205 and 304 carry no content: a body there would corrupt the keep-alive stream.
    const bodyless = reply.status === 204 || reply.status === 205 || reply.status === 304;
    if (bodyless) return respond(c, null, reply.status, { ...reply.headers });
    const headers: OutgoingHttpHeaders = { "content-type": service.config.contentType };
    for (const name in reply.headers) headers[name] = reply.headers[name];
    return respond(c, reply.body, reply.status, headers);
  };

  // One route for /v1/{service} and everything below it (hono's trailing `/*` also matches
  // nothing): with a second route for the bare name both would match, and hono would run
  // the pair through its compose chain.
  app.all("/v1/:service/*", handle(callService));
  return app;
}
