/**
 * The access line: one per HTTP request, the hottest line the gateway writes. It goes to
 * the logger's own stream, after the logger's bindings, in pino's line shape (same keys,
 * same order as `logger.info(fields, "request")`), so a reader sees no difference.
 *
 * Why not `logger.info()`: pino serializes a free-form object through its generic path
 * (mixin, merge, per-key serializer lookups, several intermediate strings). For a line
 * whose keys are fixed, that was 10-20 µs of the gateway's ~100 µs per request in place
 * (A/B on one core), as nginx's compiled `log_format` is cheaper than a generic logger.
 * Values that may need escaping (the path, the service name from the URL) go through
 * JSON.stringify. The rest cannot hold a quote, backslash or control character and are
 * written as they are: the method is an HTTP token (Node's parser takes nothing else),
 * the request id matches /^[\w\-=]+$/ or is a UUID (chooseRequestId), the worker id and
 * the trace ids are the gateway's own.
 *
 * Into the log's buffer (the default: `log.bufferBytes` > 0) the line goes as bytes,
 * encoded in place (access-line.ts); this string form serves every other destination and
 * the rare record the byte form leaves to it.
 */
import { pino } from "pino";
import { AccessLineEncoder } from "./access-line.js";
import { LineBuffer } from "./line-buffer.js";
import { cachedIsoTime, type Logger } from "./logger.js";

export interface AccessRecord {
  method: string;
  path: string;
  /** The service named in the URL; absent off /v1. */
  service: string | undefined;
  status: number;
  durationMs: number;
  requestId: string;
  /** The worker that answered; absent when none did. */
  worker: string | undefined;
  /** Trace ids of the request's SERVER span, when it is recording. */
  traceId?: string | undefined;
  spanId?: string | undefined;
}

export type AccessLog = (record: AccessRecord) => void;

interface WritableStream {
  write(line: string): unknown;
}

const quote = (value: string): string => JSON.stringify(value);

/** A writer of access lines at level info for `logger`; undefined when info is off. */
export function createAccessLog(logger: Logger): AccessLog | undefined {
  if (!logger.isLevelEnabled("info")) return undefined;
  const stream = (logger as unknown as Record<symbol, WritableStream>)[pino.symbols.streamSym];
  const bindings = (logger as unknown as Record<symbol, string | undefined>)[pino.symbols.chindingsSym] ?? "";
  if (!stream) throw new Error("the logger has no stream of its own");
  const line = (record: AccessRecord): string => accessLine(record, bindings);
  if (!(stream instanceof LineBuffer)) return (record) => void stream.write(line(record));
  const encoder = new AccessLineEncoder(bindings);
  return (record) => {
    const maxBytes = encoder.maxBytes(record);
    if (maxBytes < 0 || maxBytes > stream.maxLineBytes) {
      stream.write(line(record));
      return;
    }
    const bytes = stream.room(maxBytes);
    stream.commit(encoder.encode(bytes, stream.offset, record));
  };
}

/** The access line as a string; `bindings` are the logger's, already serialized. */
export function accessLine(record: AccessRecord, bindings: string): string {
  const trace = record.traceId ? `,"trace_id":"${record.traceId}","span_id":"${record.spanId ?? ""}"` : "";
  return (
    `{"level":"info"${cachedIsoTime()}${bindings}${trace},"event":"access","method":"${record.method}","path":${quote(record.path)}` +
    `${record.service === undefined ? "" : `,"service":${quote(record.service)}`},"status":${record.status}` +
    `,"durationMs":${record.durationMs},"request_id":"${record.requestId}"` +
    `${record.worker === undefined ? "" : `,"worker":"${record.worker}"`},"msg":"request"}\n`
  );
}

