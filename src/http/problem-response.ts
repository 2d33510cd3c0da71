/**
 * Turns any thrown value into an RFC 9457 response. GatewayErrors keep their code;
 * anything else is logged and becomes a plain 500 with no internals.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { GatewayError, isGatewayError } from "../errors.js";
import { requestFields, type Logger } from "../telemetry/logger.js";
import { respond, type GatewayEnv } from "./node-request.js";
import { PROBLEM_CONTENT_TYPE, problemFor } from "./problem.js";

export function problemResponse(c: Context<GatewayEnv>, error: GatewayError, extraHeaders: Record<string, string> = {}): Response {
  const requestId = c.get("requestId");
  const problem = problemFor(error, { instance: c.req.path, ...(requestId && { requestId }) });
  const headers: Record<string, string> = { "content-type": PROBLEM_CONTENT_TYPE, ...extraHeaders };
  if (error.retryAfterSeconds !== undefined) headers["retry-after"] = String(error.retryAfterSeconds);
  return respond(c, JSON.stringify(problem), problem.status, headers);
}

export function errorHandler(logger: Logger) {
  return function onError(error: unknown, c: Context<GatewayEnv>): Response {
    if (isGatewayError(error)) return problemResponse(c, error);
    // The client went away while its body was being read (Node's "aborted", ECONNRESET):
    // nobody receives this answer, and it is no gateway failure, so no 500 in logs and metrics.
    if (c.req.raw.signal.aborted || (error as { code?: unknown } | null)?.code === "ECONNRESET") {
      return problemResponse(c, new GatewayError("CANCELLED", "the client went away while sending the request", { cause: error }));
    }
    if (error instanceof HTTPException && error.status < 500) {
      return problemResponse(c, new GatewayError("BAD_REQUEST", error.message || "bad request"));
    }
    logger.error({ err: error, ...requestFields(c.get("requestId"), c.get("traceContext")) }, "unhandled error");
    return problemResponse(c, new GatewayError("INTERNAL"));
  };
}
