/**
 * The admin API, served on its own listener (as Envoy keeps its admin port apart):
 * list services and workers, register and remove connect-out workers at run time.
 */
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { z } from "zod";
import { endpointSchema } from "../config.js";
import { GatewayError } from "../errors.js";
import type { Service } from "../services/service.js";
import type { Logger } from "../telemetry/logger.js";
import type { GatewayMetrics } from "../telemetry/metrics.js";
import { accessLog } from "./access-log.js";
import { errorHandler, problemResponse } from "./problem-response.js";
import type { ServiceDirectory } from "./public-app.js";

const registrationSchema = z.strictObject({
  endpoint: endpointSchema,
  meta: z.boolean().optional(),
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
}

export function createAdminApp(directory: AdminDirectory, logger: Logger, metrics?: GatewayMetrics): Hono {
  const app = new Hono();
  app.use(requestId());
  app.use(accessLog(logger));
  app.onError(errorHandler(logger));
  app.notFound((c) => problemResponse(c, new GatewayError("NOT_FOUND", `no route for ${c.req.method} ${c.req.path}`)));

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
    const { endpoint, meta } = parsed.data;
    if (/:0$/.test(endpoint)) throw new GatewayError("INVALID_ENDPOINT", "endpoint: a worker endpoint needs a real port");
    const mode = meta === undefined ? service.config.mode : meta ? "meta" : "plain";
    let worker;
    try {
      worker = await service.pool.addWorker("out", endpoint, mode, "admin");
    } catch (error) {
      throw new GatewayError("INVALID_ENDPOINT", `endpoint: ${(error as Error).message}`, { cause: error });
    }
    logger.info({ event: "worker-registered", service: service.name, worker: worker.id, endpoint, mode }, "worker registered");
    return c.json({ id: worker.id, endpoint, mode }, 201, { location: `/admin/services/${service.name}/workers/${worker.id}` });
  });

  app.delete("/admin/services/:service/workers/:id", (c) => {
    const service = serviceOr404(c.req.param("service"));
    const id = c.req.param("id");
    if (!service.pool.removeWorker(id)) throw new GatewayError("NOT_FOUND", `service "${service.name}" has no worker "${id}"`);
    logger.info({ event: "worker-removed", service: service.name, worker: id }, "worker removed");
    return c.body(null, 204);
  });

  return app;
}
