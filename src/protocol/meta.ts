/**
 * The meta frames of protocol v1 (meta mode only): the request meta the gateway sends,
 * and the reply meta a worker may return. Both are small JSON objects.
 */
import { z } from "zod";
import type { PROTOCOL_VERSION } from "./frames.js";

/** Marks a JSON object as request meta, so an echoed meta frame is not taken as reply meta. */
export const REQUEST_META_KIND = "zmq-gateway.request";

export interface RequestMeta {
  v: typeof PROTOCOL_VERSION;
  kind: typeof REQUEST_META_KIND;
  method: string;
  /** Path below the service prefix, always starting with "/". */
  path: string;
  /** Raw query string without "?", "" when none. */
  query: string;
  /** Lower-case names; only content-type, accept and the service's allowlist. */
  headers: Record<string, string>;
  requestId: string;
  /** Milliseconds left until the gateway gives up, when the frame was sent. */
  deadlineMs: number;
  traceparent?: string;
  tracestate?: string;
}

export function encodeRequestMeta(meta: RequestMeta): Buffer {
  return Buffer.from(JSON.stringify(meta), "utf8");
}

const headerValue = z.union([z.string(), z.number().transform(String), z.array(z.string())]);

/** `{"status": 201, "headers": {...}}`; both optional. */
export const replyMetaSchema = z.looseObject({
  status: z.number().int().min(200).max(599).optional(),
  headers: z.record(z.string(), headerValue).optional(),
});

export type ReplyMeta = { status?: number; headers?: Record<string, string | string[]> };
