/**
 * The one logger: pino, JSON lines on stdout. Nothing else in the gateway writes to the
 * console. Tests pass their own destination to read the lines back.
 *
 * Lines about one request carry `request_id`, passed explicitly (`requestFields`): an
 * AsyncLocalStorage would do it implicitly but turns on promise hooks for every Promise
 * in the process, which cost about a fifth of the gateway's time per request. When a span
 * is active (tracing on), lines also carry `trace_id` and `span_id`, so a log search by
 * trace id finds the lines of one request.
 */
import { context, isSpanContextValid, trace, type Context } from "@opentelemetry/api";
import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";
import { LineBuffer, type ByteSink } from "./line-buffer.js";

export type Logger = PinoLogger;
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

interface CorrelationFields {
  request_id?: string;
  trace_id?: string;
  span_id?: string;
}

/** Trace fields of the span in `ctx` (default: the active context); {} when none. */
function traceFields(ctx: Context = context.active()): CorrelationFields {
  const spanContext = trace.getSpan(ctx)?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/**
 * Fields that tie a log line to its request, for lines written outside the request's
 * own async context (a socket event, a timer): its id, and the trace ids of `ctx`.
 */
export function requestFields(requestId: string | undefined, ctx?: unknown): CorrelationFields {
  const fields = traceFields(ctx as Context | undefined);
  if (requestId !== undefined) fields.request_id = requestId;
  return fields;
}

/** How stdout is written: lines wait in memory up to `bufferBytes`, at most `flushIntervalMs`. */
export interface LogBuffering {
  bufferBytes: number;
  flushIntervalMs: number;
}

const UNBUFFERED: LogBuffering = { bufferBytes: 0, flushIntervalMs: 1_000 };

/**
 * Buffered stdout, written synchronously, as nginx writes its access log: lines collect
 * in memory (line-buffer.ts) and one write(2) takes a whole buffer. Not the asynchronous
 * mode: each of its writes is a round trip through libuv's thread pool, two thread
 * wake-ups that cost more than the write itself (on one core: 0.42 -> 0.19 context
 * switches per request). A log reader that stops reading blocks the gateway once the pipe
 * is full, rather than lines being dropped or piling up in memory. Lines still waiting
 * when the process dies abruptly (SIGKILL) are lost; an orderly exit flushes them
 * (`logger.flush()` in main.ts), and so does any exit that runs `exit` handlers.
 */
function stdoutDestination({ bufferBytes, flushIntervalMs }: LogBuffering): DestinationStream {
  if (bufferBytes <= 0) return pino.destination({ dest: 1, sync: true });
  // In "buffer" mode sonic-boom writes Buffers as they are; its types describe only "utf8" mode.
  const stdout = pino.destination({ dest: 1, sync: true, contentMode: "buffer" }) as unknown as ByteSink;
  const buffer = new LineBuffer(stdout, bufferBytes);
  const flush = (): void => {
    try {
      buffer.flush();
    } catch {
      clearInterval(timer); // stdout is gone (process exit)
    }
  };
  const timer = setInterval(flush, flushIntervalMs);
  timer.unref();
  process.once("exit", flush);
  return buffer;
}

let isoMs = -1;
let isoField = "";

/**
 * pino's `isoTime`, formatted at most once per millisecond: under load many lines share a
 * millisecond, and `toISOString()` was a quarter of an access line's cost.
 */
export function cachedIsoTime(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoField = `,"time":"${new Date(now).toISOString()}"`;
  }
  return isoField;
}

/**
 * Lines carry `name: "zmq-gateway"` (pino's convention for the program's name); `service`
 * is left to the lines about one service (the access line, the pool's lines), so a line
 * never has the key twice.
 */
export function createLogger(level: LogLevel, destination?: DestinationStream, buffering: LogBuffering = UNBUFFERED): Logger {
  return pino(
    {
      level,
      base: { name: "zmq-gateway" },
      timestamp: cachedIsoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => traceFields(),
    },
    destination ?? stdoutDestination(buffering),
  );
}
