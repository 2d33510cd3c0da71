/**
 * The operator console and the API reference, on the admin listener:
 *
 *   GET  /admin/               the console page (services, workers, live rates, register, try it)
 *   GET  /admin/docs           openapi.yaml rendered by Swagger UI
 *   GET  /admin/assets/{name}  their styles and scripts
 *   GET  /openapi.yaml         the API document itself
 *   GET  /admin/console/stats  requests, 5xx and p50/p99 over the last minute, by service
 *   POST /admin/console/try    calls a service in process and reports what came back
 *
 * The pages and assets reveal no state and need no token (a browser cannot send one when
 * it navigates); the two JSON endpoints are admin API calls like the others, so the admin
 * token guards them, and the page sends it from the token field.
 */
import type { GatewayEnv } from "../node-request.js";
import type { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { GatewayError } from "../../errors.js";
import type { Logger } from "../../telemetry/logger.js";
import type { GatewayMetrics } from "../../telemetry/metrics.js";
import { createPublicApp, type ServiceDirectory } from "../public-app.js";
import { assetPath, openApiPath, pagePath, serveFile } from "./console-assets.js";
import { createConsoleStats } from "./console-stats.js";
import { tryHandler } from "./try-call.js";

/** Largest POST /admin/console/try body (the service's own maxBodyBytes still applies to the call). */
const MAX_TRY_BYTES = 4 * 1_048_576;

export interface ConsoleDependencies {
  directory: ServiceDirectory;
  logger: Logger;
  metrics?: GatewayMetrics | undefined;
}

export function mountConsole(app: Hono<GatewayEnv>, { directory, logger, metrics }: ConsoleDependencies): void {
  const stats = createConsoleStats(metrics?.registry);
  // A second instance of the public app, called in process by "try it".
  const publicApp = createPublicApp(directory, logger, metrics);

  app.get("/admin", (c) => c.redirect("/admin/", 308));
  app.get("/admin/", (c) => serveFile(c, pagePath("index.html")));
  app.get("/admin/docs", (c) => serveFile(c, pagePath("docs.html")));
  app.get("/admin/assets/:name", (c) => serveFile(c, assetPath(c.req.param("name"))));
  app.get("/openapi.yaml", (c) => serveFile(c, openApiPath));

  app.get("/admin/console/stats", async (c) => c.json(await stats.read(directory.services())));
  app.post(
    "/admin/console/try",
    bodyLimit({
      maxSize: MAX_TRY_BYTES,
      onError: () => {
        throw new GatewayError("BODY_TOO_LARGE", `a try request is at most ${MAX_TRY_BYTES} bytes`);
      },
    }),
    tryHandler(publicApp),
  );
}
