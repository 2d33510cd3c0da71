/**
 * The admin API, served on its own listener (as Envoy keeps its admin port apart):
 * list services and workers, register and remove connect-out workers at run time.
 */
import { Hono } from "hono";
import { z } from "zod";
import { endpointSchema, Z85_KEY_PATTERN } from "../config.js";
import { GatewayError } from "../errors.js";
import type { Service } from "../services/service.js";
import type { Logger } from "../telemetry/logger.js";
import type { GatewayMetrics } from "../telemetry/metrics.js";
import type { EndpointPolicy } from "../services/endpoint-policy.js";
import { type GatewayEnv } from "./node-request.js";
import { createLifecycle } from "./request-lifecycle.js";
import { adminAuth } from "./admin-auth.js";
import { mountConsole } from "./console/console-routes.js";
import { errorHandler, problemResponse } from "./problem-response.js";
import type { ServiceDirectory } from "./public-app.js";

const registrationSchema = z.strictObject({
  endpoint: endpointSchema,
  meta: z.boolean().optional(),
  /** The worker's CURVE public key (Z85); required when CURVE is on. */
  serverKey: z.string().regex(Z85_KEY_PATTERN, "must be a 40-character Z85 key").optional(),
});

export function describeService(service: Service) {
  const { pool } = service;
  return {
    name: service.name,
    mode: service.config.mode,
    required: service.config.required,
    window: service.config.window,
    connectedWorkers: pool.connectedWorkers,
    inFlight: pool.inFlight,
    queued: pool.queued,
    pending: pool.pendingSize,
    counters: { ...pool.counters, badReplies: service.badReplies },
    workers: pool.snapshot(),
  };
}

export interface AdminDirectory extends ServiceDirectory {
  /** Bound endpoints of native front doors, by service name. */
  frontendEndpoint(name: string): string | undefined;
  /** Bearer token the admin API requires; undefined: none (the listener is loopback-only). */
  readonly adminToken?: string | undefined;
  /** Where run-time registration may point. */
  readonly endpointPolicy: EndpointPolicy;
  /** Whether worker links use CURVE (registration then needs `serverKey`). */
  readonly curveEnabled?: boolean;
  /** Re-reads the CURVE allow-list; connect-in peers whose key left it are disconnected. */
  reloadAllowedKeys?(): Promise<{ allowed: number; removed: number }>;
}

export function createAdminApp(directory: AdminDirectory, logger: Logger, metrics?: GatewayMetrics, options: { accessLog?: boolean } = {}): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.use(createLifecycle({ logger, accessLog: options.accessLog }).middleware);
  app.onError(errorHandler(logger));
  app.notFound((c) => problemResponse(c, new GatewayError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`)));
  app.use(adminAuth(directory.adminToken));

  const serviceOr404 = (name: string): Service => {
    const service = directory.service(name);
    if (!service) throw new GatewayError("UNKNOWN_SERVICE", `no service named "${name}"`);
    return service;
  };

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  if (metrics) app.get("/metrics", async (c) => c.body(await metrics.render(), 200, { "content-type": metrics.contentType }));

  app.get("/admin/services", (c) =>
    c.json({
      draining: directory.draining,
      services: [...directory.services()].map((service) => ({
        ...describeService(service),
        frontend: directory.frontendEndpoint(service.name) ?? null,
      })),
    }),
  );

  app.post("/admin/services/:service/workers", async (c) => {
    const service = serviceOr404(c.req.param("service"));
    let input: unknown;
    try {
      input = await c.req.json();
    } catch {
      throw new GatewayError("BAD_REQUEST", 'the body must be JSON such as {"endpoint": "tcp://host:port"}');
    }
    const parsed = registrationSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue?.path.join(".") || "body";
      throw new GatewayError("INVALID_ENDPOINT", `${field}: ${issue?.message ?? "invalid"}`);
    }
    const { endpoint, meta, serverKey } = parsed.data;
    const refusal = directory.endpointPolicy.check(endpoint);
    if (refusal) throw new GatewayError("INVALID_ENDPOINT", `endpoint: ${refusal}`);
    if (directory.curveEnabled && !serverKey) throw new GatewayError("INVALID_ENDPOINT", "serverKey: CURVE is on, so the worker's public key is required");
    const mode = meta === undefined ? service.config.mode : meta ? "meta" : "plain";
    let worker;
    try {
      worker = await service.pool.addWorker("out", endpoint, mode, "admin", { serverKey });
    } catch (error) {
      throw new GatewayError("INVALID_ENDPOINT", `endpoint: ${(error as Error).message}`, { cause: error });
    }
    logger.info({ event: "worker-registered", service: service.name, worker: worker.id, endpoint, mode }, "worker registered");
    return c.json({ id: worker.id, endpoint, mode }, 201, { location: `/admin/services/${service.name}/workers/${worker.id}` });
  });

  app.post("/admin/curve/reload", async (c) => {
    if (!directory.reloadAllowedKeys) throw new GatewayError("NOT_FOUND", "CURVE is off");
    const result = await directory.reloadAllowedKeys();
    logger.info({ event: "curve-reload", ...result }, "CURVE allow-list reloaded");
    return c.json(result);
  });

  app.delete("/admin/services/:service/workers/:id", (c) => {
    const service = serviceOr404(c.req.param("service"));
    const id = c.req.param("id");
    if (!service.pool.removeWorker(id)) throw new GatewayError("NOT_FOUND", `service "${service.name}" has no worker "${id}"`);
    logger.info({ event: "worker-removed", service: service.name, worker: id }, "worker removed");
    return c.body(null, 204);
  });

  mountConsole(app, { directory, logger, metrics });
  return app;
}
