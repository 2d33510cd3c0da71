/**
 * One access-log line per HTTP request, written when the response is ready:
 * method, path, service, status, duration (ms) and request id.
 */
import type { MiddlewareHandler } from "hono";
import type { Logger } from "../telemetry/logger.js";

export function accessLog(logger: Logger): MiddlewareHandler {
  return async function accessLog(c, next) {
    const started = performance.now();
    await next();
    if (!logger.isLevelEnabled("info")) return;
    logger.info(
      {
        event: "access",
        method: c.req.method,
        path: c.req.path,
        service: c.req.param("service"),
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 1000) / 1000,
        requestId: c.get("requestId"),
        worker: c.res.headers.get("x-worker-id") ?? undefined,
      },
      "request",
    );
  };
}
