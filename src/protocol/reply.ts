/**
 * Decoding a worker's reply payload (the frames after the envelope) into an HTTP-ready
 * result. Pure and total: any input gives either a reply or a reason for a 502; it
 * never throws.
 */
import type { WorkerMode } from "../config.js";
import { REQUEST_META_KIND, replyMetaSchema } from "./meta.js";

export interface DecodedReply {
  ok: true;
  status: number;
  body: Buffer;
  /** Filtered worker headers (lower-case names); never hop-by-hop or framing headers. */
  headers: Record<string, string | string[]>;
}
export interface RejectedReply {
  ok: false;
  reason: string;
}

/** Headers a worker may not set: hop-by-hop, framing and those the gateway owns. */
const forbiddenReplyHeaders = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "content-length",
  "x-request-id",
  "date",
  "server",
]);

const tokenPattern = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * What Node's HTTP server refuses in a header value (its checkInvalidHeaderChar): CR, LF,
 * NUL and other controls but tab, DEL, and anything above U+00FF. Letting one through
 * made the response fail late, as a 500.
 */
const unsafeValuePattern = /[^\t\x20-\x7e\x80-\xff]/;

export interface DecodeOptions {
  /** Whether `set-cookie` from workers is passed on. */
  allowSetCookie?: boolean;
}

export function decodeReply(
  payload: readonly Buffer[],
  mode: WorkerMode,
  options: DecodeOptions = {},
): DecodedReply | RejectedReply {
  const [body, metaFrame] = payload;
  if (!body) return { ok: false, reason: "the worker replied with no frame" };
  if (mode === "plain") {
    if (payload.length !== 1) {
      return {
        ok: false,
        reason: `a plain worker must reply with exactly one frame; it sent ${payload.length}`,
      };
    }
    return { ok: true, status: 200, body, headers: {} };
  }
  if (payload.length > 2) {
    return { ok: false, reason: `a meta worker replies with one or two frames; it sent ${payload.length}` };
  }
  if (!metaFrame) return { ok: true, status: 200, body, headers: {} };

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(metaFrame));
  } catch {
    return { ok: false, reason: "the reply meta frame is not UTF-8 JSON" };
  }
  if (json !== null && typeof json === "object" && (json as { kind?: unknown }).kind === REQUEST_META_KIND) {
    // The worker echoed the request's meta back: that is not reply meta.
    return { ok: true, status: 200, body, headers: {} };
  }
  const parsed = replyMetaSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "reply meta";
    return { ok: false, reason: `invalid reply meta: ${where}: ${issue?.message ?? "invalid"}` };
  }
  const headers: Record<string, string | string[]> = {};
  for (const [rawName, value] of Object.entries(parsed.data.headers ?? {})) {
    const name = rawName.toLowerCase();
    if (!tokenPattern.test(name)) return { ok: false, reason: `invalid reply header name "${rawName}"` };
    const values = Array.isArray(value) ? value : [value];
    if (values.some((v) => unsafeValuePattern.test(v))) {
      return { ok: false, reason: `reply header "${rawName}" contains CR, LF, NUL or another character HTTP does not allow` };
    }
    if (forbiddenReplyHeaders.has(name)) continue;
    if (name === "set-cookie" && !options.allowSetCookie) continue;
    headers[name] = Array.isArray(value) ? values : (values[0] ?? "");
  }
  return { ok: true, status: parsed.data.status ?? 200, body, headers };
}
