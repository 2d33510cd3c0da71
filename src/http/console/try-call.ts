/**
 * The console's "try it" box: POST /admin/console/try calls a service the way a client of
 * the public listener would, and answers what came back (status, headers, body), how long
 * it took, and the id to look the call up by. The call goes through the public app in
 * process, so it gets the same request id, tracing, metrics, access log and limits as any
 * other call, whatever host and port the public listener is on.
 *
 * The id is, first found: the trace id of a `traceresponse` header in the reply, the trace
 * id of the `traceparent` sent when tracing is on (a CLIENT span "console.try {service}" is
 * opened for it, unless the caller gave their own), else the request id.
 */
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import type { Handler } from "hono";
import { z } from "zod";
import { serviceNamePattern } from "../../config.js";
import { GatewayError } from "../../errors.js";
import { attributes, TRACER_NAME } from "../../telemetry/tracing.js";

/** Anything with a fetch handler: the public app. */
export interface CallTarget {
  fetch(request: Request): Response | Promise<Response>;
}

/** Largest reply body handed back to the page; the rest is cut (`truncated: true`). */
export const MAX_SHOWN_BODY_BYTES = 1_048_576;

/** Headers the caller may not set: the gateway's transport owns them. */
const DROPPED_HEADERS = new Set([
  "host",
  "content-length",
  "connection",
  "transfer-encoding",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
]);

const tryInputSchema = z.strictObject({
  service: z.string().regex(serviceNamePattern, "must be a service name ([a-z0-9._-])"),
  method: z
    .string()
    .regex(/^[A-Za-z]{1,16}$/, "must be an HTTP method such as GET or POST")
    .transform((method) => method.toUpperCase()),
  /** Below /v1/{service}: "" or "/orders/1?expand=1". */
  path: z
    .string()
    .max(2_048)
    .regex(/^([/?][^#\s]*)?$/, 'must be empty or start with "/" or "?"')
    .default(""),
  headers: z
    .record(
      z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/, "must be a header name"),
      z.string().max(8_192),
    )
    .refine((headers) => Object.keys(headers).length <= 50, "at most 50 headers")
    .default({}),
  body: z.string().default(""),
});

export type TryInput = z.infer<typeof tryInputSchema>;

export interface TryResult {
  status: number;
  headers: [name: string, value: string][];
  body: string;
  bodyEncoding: "utf8" | "base64";
  bodyBytes: number;
  truncated: boolean;
  durationMs: number;
  requestId: string | null;
  traceId: string | null;
  traceIdSource: "traceresponse" | "traceparent" | "request-id" | null;
}

const TRACE_CONTEXT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

function traceIdOf(header: string | null | undefined): string | undefined {
  return TRACE_CONTEXT.exec(header?.trim() ?? "")?.[1];
}

function parseInput(input: unknown): TryInput {
  const parsed = tryInputSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new GatewayError(
    "BAD_REQUEST",
    `${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"}`,
  );
}

function decodeBody(
  bytes: Uint8Array,
): Pick<TryResult, "body" | "bodyEncoding" | "bodyBytes" | "truncated"> {
  const shown = bytes.subarray(0, MAX_SHOWN_BODY_BYTES);
  const truncated = shown.length < bytes.length;
  try {
    // A cut may split a character: only a complete body must be valid UTF-8.
    return {
      body: new TextDecoder("utf-8", { fatal: !truncated }).decode(shown),
      bodyEncoding: "utf8",
      bodyBytes: bytes.length,
      truncated,
    };
  } catch {
    return {
      body: Buffer.from(shown).toString("base64"),
      bodyEncoding: "base64",
      bodyBytes: bytes.length,
      truncated,
    };
  }
}

/** Calls `input` through `target`, timing it and tracing it when tracing is on. */
export async function tryCall(
  target: CallTarget,
  input: TryInput,
  signal?: AbortSignal,
): Promise<TryResult> {
  const base = `/v1/${input.service}`;
  const url = new URL(`http://localhost${base}${input.path}`);
  if (url.pathname !== base && !url.pathname.startsWith(`${base}/`))
    throw new GatewayError("BAD_REQUEST", `path: must stay below ${base}`);
  const headers = new Headers();
  for (const [name, value] of Object.entries(input.headers))
    if (!DROPPED_HEADERS.has(name.toLowerCase())) headers.set(name, value);

  const span = trace
    .getTracer(TRACER_NAME)
    .startSpan(`console.try ${input.service}`, {
      kind: SpanKind.CLIENT,
      attributes: { [attributes.service]: input.service },
    });
  const tracing = propagation.fields().includes("traceparent");
  if (tracing && !headers.has("traceparent")) {
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(context.active(), span), carrier);
    for (const [name, value] of Object.entries(carrier)) headers.set(name, value);
  }
  const hasBody = input.method !== "GET" && input.method !== "HEAD";
  const started = performance.now();
  try {
    const response = await target.fetch(
      new Request(url, {
        method: input.method,
        headers,
        body: hasBody ? Buffer.from(input.body) : null,
        signal,
      }),
    );
    const bytes = new Uint8Array(await response.arrayBuffer());
    const durationMs = Math.round((performance.now() - started) * 1_000) / 1_000;
    span.setAttribute("http.response.status_code", response.status);
    const requestId = response.headers.get("x-request-id");
    const fromResponse = traceIdOf(response.headers.get("traceresponse"));
    const fromRequest = tracing ? traceIdOf(headers.get("traceparent")) : undefined;
    const [traceId, traceIdSource] = fromResponse
      ? [fromResponse, "traceresponse" as const]
      : fromRequest
        ? [fromRequest, "traceparent" as const]
        : requestId
          ? [requestId, "request-id" as const]
          : [null, null];
    return {
      status: response.status,
      headers: [...response.headers],
      ...decodeBody(bytes),
      durationMs,
      requestId,
      traceId,
      traceIdSource,
    };
  } finally {
    span.end();
  }
}

/** POST /admin/console/try. JSON only: a cross-site form cannot send it without a CORS preflight. */
export function tryHandler(target: CallTarget): Handler {
  return async function consoleTry(c) {
    if (!/^application\/json\b/i.test(c.req.header("content-type") ?? "")) {
      throw new GatewayError(
        "BAD_REQUEST",
        "the body must be JSON (content-type: application/json)",
      );
    }
    let input: unknown;
    try {
      input = await c.req.json();
    } catch {
      throw new GatewayError(
        "BAD_REQUEST",
        'the body must be JSON such as {"service": "echo", "method": "POST", "body": "hi"}',
      );
    }
    return c.json(await tryCall(target, parseInput(input), c.req.raw.signal));
  };
}
