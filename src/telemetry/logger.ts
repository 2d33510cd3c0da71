/**
 * The one logger: pino, JSON lines on stdout. Nothing else in the gateway writes to the
 * console. Tests pass their own destination to read the lines back.
 *
 * Every line written while a request is handled carries `request_id` (from
 * request-context.ts) and, when a span is active (tracing on), `trace_id` and `span_id`,
 * so a log search by trace id finds the lines of one request.
 */
import { context, isSpanContextValid, trace } from "@opentelemetry/api";
import { pino, type DestinationStream, type Logger as PinoLogger } from "pino";
import { currentRequestId } from "./request-context.js";

export type Logger = PinoLogger;
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** Correlation fields of the request and span being handled; {} outside a request. */
export function correlationFields(): { request_id?: string; trace_id?: string; span_id?: string } {
  const requestId = currentRequestId();
  const spanContext = trace.getSpan(context.active())?.spanContext();
  const fields: { request_id?: string; trace_id?: string; span_id?: string } = {};
  if (requestId !== undefined) fields.request_id = requestId;
  if (spanContext && isSpanContextValid(spanContext)) {
    fields.trace_id = spanContext.traceId;
    fields.span_id = spanContext.spanId;
  }
  return fields;
}

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "zmq-gateway" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: correlationFields,
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
