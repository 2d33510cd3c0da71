/**
 * The OpenTelemetry SDK for the gateway process, loaded by the entry point only when
 * tracing-settings.ts says tracing is on (a dynamic import: with tracing off none of this
 * is loaded). Spans are batched (OTEL_BSP_* tune it) and sent by OTLP/HTTP, protobuf or
 * JSON; endpoint, headers and timeout come from the standard OTEL_EXPORTER_OTLP_*
 * variables, sampling from OTEL_TRACES_SAMPLER(_ARG), resource attributes from
 * OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. Propagation: W3C traceparent,
 * tracestate and baggage. The context manager is synchronous (context-manager.ts: no promise
 * hooks). SDK warnings go to the gateway's logger, never the console.
 */
import { diag, DiagLogLevel, type DiagLogger } from "@opentelemetry/api";
import { OTLPTraceExporter as JsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { SynchronousContextManager } from "./context-manager.js";
import type { Logger } from "./logger.js";
import type { OtlpProtocol } from "./tracing-settings.js";

export interface Tracing {
  /** Sends the spans still buffered and stops; resolves within `timeoutMs` whatever happens. */
  shutdown(timeoutMs?: number): Promise<void>;
}

function diagLogger(logger: Logger): DiagLogger {
  const write = (level: "error" | "warn" | "info" | "debug") => (message: string, ...args: unknown[]) =>
    logger[level]({ event: "otel", ...(args.length > 0 && { details: args.map(String) }) }, message);
  return { error: write("error"), warn: write("warn"), info: write("info"), debug: write("debug"), verbose: write("debug") };
}

export function startTracing(options: { protocol: OtlpProtocol; logger: Logger; serviceVersion: string }): Tracing {
  diag.setLogger(diagLogger(options.logger), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  const exporter = options.protocol === "http/json" ? new JsonTraceExporter() : new ProtobufTraceExporter();
  const resource = defaultResource()
    .merge(resourceFromAttributes({ "service.name": "zmq-gateway", "service.version": options.serviceVersion }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  // Not the default AsyncLocalStorage manager: it puts promise hooks on every Promise (context-manager.ts).
  provider.register({ contextManager: new SynchronousContextManager() });
  return {
    async shutdown(timeoutMs = 5_000) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      try {
        await Promise.race([provider.shutdown(), late]);
      } catch (error) {
        options.logger.warn({ event: "otel", err: error }, "tracing shutdown failed");
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
