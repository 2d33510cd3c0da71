/**
 * A real OTLP/HTTP trace receiver in the test process: a node:http server on 127.0.0.1,
 * port 0, that takes `POST /v1/traces` in the JSON protocol (OTEL_EXPORTER_OTLP_PROTOCOL
 * =http/json, gzip or not), decodes every span and keeps it. Protobuf bodies are refused
 * with 415 so a misconfigured exporter shows up as missing spans, not as garbage.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { waitUntil } from "./wait.js";

export type AttributeValue = string | number | boolean | undefined;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  /** service.name of the exporting process. */
  service: string;
  attributes: Record<string, AttributeValue>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
}

export const SpanKindCode = { server: 2, client: 3, consumer: 5 } as const;

export interface OtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter adds /v1/traces). */
  url: string;
  spans: ReceivedSpan[];
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Export requests refused (not JSON). */
  readonly rejected: number;
  /** Waits until `predicate` holds for the spans received so far, then returns them. */
  waitForSpans(predicate: (spans: ReceivedSpan[]) => boolean, what: string, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

interface OtlpAnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind?: number;
  attributes?: OtlpKeyValue[];
  status?: { code?: number; message?: string };
}
interface OtlpExport {
  resourceSpans?: { resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

function decodeValue(value: OtlpAnyValue | undefined): AttributeValue {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return value.boolValue;
}

function decodeAttributes(list: OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  return Object.fromEntries((list ?? []).map(({ key, value }) => [key, decodeValue(value)]));
}

/** Span and trace ids: hex in the JSON protocol (base64 from some exporters). */
function hexId(id: string | undefined): string {
  if (!id) return "";
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, "base64").toString("hex");
}

export function decodeExport(body: OtlpExport): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of body.resourceSpans ?? []) {
    const service = String(decodeAttributes(resourceSpans.resource?.attributes)["service.name"] ?? "");
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      for (const span of scopeSpans.spans ?? []) {
        spans.push({
          traceId: hexId(span.traceId),
          spanId: hexId(span.spanId),
          parentSpanId: hexId(span.parentSpanId),
          traceState: span.traceState ?? "",
          name: span.name,
          kind: span.kind ?? 0,
          service,
          attributes: decodeAttributes(span.attributes),
          status: { code: span.status?.code ?? 0, message: span.status?.message ?? "" },
        });
      }
    }
  }
  return spans;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return request.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  let connections = 0;
  let rejected = 0;
  const server = createServer((request, response) => {
    readBody(request).then(
      (body) => {
        const type = request.headers["content-type"] ?? "";
        if (request.method !== "POST" || request.url !== "/v1/traces" || !type.startsWith("application/json")) {
          rejected++;
          response.writeHead(415, { "content-type": "text/plain" }).end("this receiver takes OTLP/HTTP JSON at /v1/traces");
          return;
        }
        spans.push(...decodeExport(JSON.parse(body.toString("utf8")) as OtlpExport));
        response.writeHead(200, { "content-type": "application/json" }).end("{}");
      },
      () => response.writeHead(400).end(),
    );
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    get connections() {
      return connections;
    },
    get rejected() {
      return rejected;
    },
    async waitForSpans(predicate, what, timeoutMs = 10_000) {
      await waitUntil(() => predicate(spans), what, { timeoutMs, intervalMs: 20 });
      return spans;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
