/**
 * Bearer-token check for the admin listener, compared in constant time (both sides are
 * hashed first, so their lengths never leak either). Liveness, the API document and the
 * console's static page stay open: they change nothing and reveal no state.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { GatewayError } from "../errors.js";
import type { GatewayEnv } from "./node-request.js";
import { problemResponse } from "./problem-response.js";

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Requests that need no token: GET/HEAD of liveness, the document, and static console pages. */
export function isOpenAdminRequest(method: string, path: string): boolean {
  if (method !== "GET" && method !== "HEAD") return false;
  return path === "/healthz" || path === "/openapi.yaml" || path === "/admin" || path === "/admin/" || path.startsWith("/admin/docs") || path.startsWith("/admin/assets/");
}

/**
 * A browser page on another site can send "simple" POSTs (text/plain, forms) to a
 * loopback admin port without a token. Browsers mark such requests with Origin and
 * Sec-Fetch-Site; a changing request from another origin is refused. curl and other
 * non-browser clients send neither and are unaffected.
 */
export function isCrossSite(method: string, origin: string | undefined, fetchSite: string | undefined, host: string | undefined): boolean {
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") return false;
  if (fetchSite === "cross-site" || fetchSite === "same-site") return true;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

export function adminAuth(token: string | undefined): MiddlewareHandler<GatewayEnv> {
  const expected = token === undefined ? undefined : digest(token);
  return async function adminAuth(c, next) {
    if (isCrossSite(c.req.method, c.req.header("origin"), c.req.header("sec-fetch-site"), c.req.header("host"))) {
      return problemResponse(c, new GatewayError("FORBIDDEN"));
    }
    if (expected === undefined || isOpenAdminRequest(c.req.method, c.req.path)) return next();
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      return problemResponse(c, new GatewayError("UNAUTHORIZED"), { "www-authenticate": 'Bearer realm="zmq-gateway admin"' });
    }
    return next();
  };
}
