/**
 * A traced TypeScript worker: the `zmq-gateway/worker` helper in meta mode, with the
 * OpenTelemetry SDK exporting its spans by OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is
 * set. Its span is a child of the gateway's CLIENT span (traceparent in the meta frame).
 *
 *   WORKER_BIND=tcp://127.0.0.1:5555 OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 \
 *     OTEL_SERVICE_NAME=traced-worker node dist/examples/traced-worker.js
 *
 * The service must be in meta mode (`mode: meta`). Prints `ready <endpoint>`.
 */
import { OTLPTraceExporter as JsonTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { serveWorker } from "../src/worker/index.js"; // from a package: "zmq-gateway/worker"

const env = process.env;
let provider: NodeTracerProvider | undefined;
if (env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
  const json = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL) === "http/json";
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME ?? "traced-worker" }),
    spanProcessors: [new BatchSpanProcessor(json ? new JsonTraceExporter() : new ProtobufTraceExporter())],
  });
  provider.register(); // W3C traceparent + baggage propagators, AsyncLocalStorage context
}

const worker = await serveWorker(
  (request) => ({
    status: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ worker: "typescript", method: request.method, path: request.path, requestId: request.requestId, echo: request.body.toString() }),
  }),
  env.WORKER_BIND ? { bind: env.WORKER_BIND } : { connect: env.WORKER_CONNECT ?? "tcp://127.0.0.1:5560" },
);
console.log(`ready ${worker.endpoint}`);

process.once("SIGTERM", () => {
  worker.close();
  void (provider?.shutdown() ?? Promise.resolve()).finally(() => process.exit(0));
});
