/**
 * Prometheus metrics (prom-client) for one gateway, served as text at the admin
 * listener's `GET /metrics`. The hot path pays one tally per HTTP request
 * (request-tally.ts); everything the pools already count (timeouts, retries,
 * late replies, queue depth...) is read from them at scrape time in `collect()`.
 *
 * Every metric and label is described in docs/observability.md.
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { FrontendCounters } from "../frontends/router-frontend.js";
import type { Service } from "../services/service.js";
import type { PoolCounters } from "../services/worker-pool.js";
import { RequestTally } from "./request-tally.js";

/** What the metrics read at scrape time. */
export interface MetricsSource {
  service(name: string): Service | undefined;
  services(): Iterable<Service>;
  frontends(): Iterable<{ service: string; counters: FrontendCounters }>;
}

/** Records one finished HTTP call; implemented by GatewayMetrics. */
export interface RequestRecorder {
  /** `service` is the name in the URL (undefined off /v1); unknown names count as "(unknown)". */
  recordRequest(service: string | undefined, method: string, status: number, durationSeconds: number): void;
}

export interface GatewayMetrics extends RequestRecorder {
  readonly registry: Registry;
  /** The Content-Type of `render()`'s output. */
  readonly contentType: string;
  /** Every metric of the registry in the Prometheus text format, pool counters read now. */
  render(): Promise<string>;
}

/** The label of calls to a service name that does not exist (keeps label values bounded). */
export const UNKNOWN_SERVICE_LABEL = "(unknown)";

/** RFC 9110 method classes: safe, idempotent (not safe), unsafe. */
export function methodClass(method: string): "safe" | "idempotent" | "unsafe" {
  switch (method) {
    case "GET":
    case "HEAD":
    case "OPTIONS":
    case "TRACE":
      return "safe";
    case "PUT":
    case "DELETE":
      return "idempotent";
    default:
      return "unsafe";
  }
}

type Labels = Record<string, string>;
type Sample = [labels: Labels, value: number];

/** A pool counter exposed as a Prometheus counter, with an optional extra label. */
interface PoolCounterSpec {
  name: string;
  help: string;
  read: (service: Service) => Sample[];
  extraLabel?: string;
}

const byService = (read: (counters: PoolCounters, service: Service) => number) => (service: Service): Sample[] => [
  [{}, read(service.pool.counters, service)],
];
const split = (label: string, parts: Record<string, (counters: PoolCounters) => number>) => (service: Service): Sample[] =>
  Object.entries(parts).map(([value, read]) => [{ [label]: value }, read(service.pool.counters)]);

const poolCounters: PoolCounterSpec[] = [
  { name: "zmq_gateway_worker_requests_total", help: "Attempts sent to workers (first tries and retries).", read: byService((c) => c.sent) },
  { name: "zmq_gateway_worker_replies_total", help: "Attempts a worker answered in time.", read: byService((c) => c.replied) },
  {
    name: "zmq_gateway_timeouts_total",
    help: "Requests answered 504: while queued (never sent) or in flight (the worker missed the deadline).",
    extraLabel: "stage",
    read: split("stage", { queued: (c) => c.timedOutQueued, in_flight: (c) => c.timedOutInFlight }),
  },
  { name: "zmq_gateway_late_replies_total", help: "Replies that came after their request had timed out or been answered; dropped.", read: byService((c) => c.lateReplies) },
  { name: "zmq_gateway_unknown_replies_total", help: "Replies whose correlation id was not the gateway's (malformed or from before a restart); dropped.", read: byService((c) => c.unknownReplies) },
  { name: "zmq_gateway_bad_replies_total", help: "Worker replies that could not be decoded or were too large (answered 502).", read: byService((_c, s) => s.badReplies) },
  { name: "zmq_gateway_retries_total", help: "Requests sent again to another worker after their worker was lost (or timed out, if configured).", read: byService((c) => c.retries) },
  { name: "zmq_gateway_retries_denied_total", help: "Retries refused by the retry budget.", read: byService((c) => c.retriesDenied) },
  { name: "zmq_gateway_worker_lost_requests_total", help: "Attempts whose worker disconnected while holding them.", read: byService((c) => c.lost) },
  { name: "zmq_gateway_worker_disconnects_total", help: "Worker connections lost.", read: byService((c) => c.disconnects) },
  { name: "zmq_gateway_worker_ejections_total", help: "Workers ejected by outlier detection (consecutive timeouts).", read: byService((c) => c.ejections) },
  { name: "zmq_gateway_send_failures_total", help: "Frames that could not be handed to a worker socket (the request was requeued).", read: byService((c) => c.sendFailures) },
  {
    name: "zmq_gateway_rejected_total",
    help: "Requests refused at once with 503, by reason.",
    extraLabel: "reason",
    read: split("reason", { no_worker: (c) => c.rejectedNoWorker, queue_full: (c) => c.rejectedQueueFull, unhealthy: (c) => c.rejectedFailFast }),
  },
  {
    name: "zmq_gateway_cancelled_total",
    help: "Requests whose client went away, by stage.",
    extraLabel: "stage",
    read: split("stage", { queued: (c) => c.cancelledQueued, in_flight: (c) => c.cancelledInFlight }),
  },
  {
    name: "zmq_gateway_drained_total",
    help: "Requests answered 503 because the gateway stopped before they were done, by stage.",
    extraLabel: "stage",
    read: split("stage", { queued: (c) => c.drainedQueued, in_flight: (c) => c.drainedInFlight }),
  },
];

const poolGauges: { name: string; help: string; read: (service: Service) => number }[] = [
  { name: "zmq_gateway_in_flight_requests", help: "Requests sent to a worker and not yet answered.", read: (s) => s.pool.inFlight },
  { name: "zmq_gateway_queued_requests", help: "Requests waiting in the gateway's queue for a free worker.", read: (s) => s.pool.queued },
  { name: "zmq_gateway_connected_workers", help: "Worker connections (peers) up.", read: (s) => s.pool.connectedWorkers },
];

/** Latency buckets, seconds: 1 ms to 30 s. */
const durationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createGatewayMetrics(source: MetricsSource, registry: Registry = new Registry()): GatewayMetrics {
  const tally = new RequestTally(durationBuckets);
  new Counter({
    name: "zmq_gateway_http_requests_total",
    help: "HTTP calls to /v1/{service}, by service, method class and response status.",
    labelNames: ["service", "method_class", "status"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const series of tally.countSeries()) this.inc(series.labels, series.value);
    },
  });
  registry.registerMetric(tally.histogram("zmq_gateway_http_request_duration_seconds", "Time from an HTTP call's arrival to its response, by service."));
  for (const spec of poolCounters) {
    new Counter({
      name: spec.name,
      help: spec.help,
      labelNames: spec.extraLabel ? ["service", spec.extraLabel] : ["service"],
      registers: [registry],
      collect() {
        this.reset();
        for (const service of source.services()) {
          for (const [labels, value] of spec.read(service)) this.inc({ service: service.name, ...labels }, value);
        }
      },
    });
  }
  for (const spec of poolGauges) {
    new Gauge({
      name: spec.name,
      help: spec.help,
      labelNames: ["service"],
      registers: [registry],
      collect() {
        this.reset();
        for (const service of source.services()) this.set({ service: service.name }, spec.read(service));
      },
    });
  }
  new Counter({
    name: "zmq_gateway_frontend_messages_total",
    help: "Calls through a ROUTER front door, by outcome (replied, failed: answered with a problem frame, malformed: dropped).",
    labelNames: ["service", "outcome"],
    registers: [registry],
    collect() {
      this.reset();
      for (const { service, counters } of source.frontends()) {
        this.inc({ service, outcome: "replied" }, counters.replied);
        this.inc({ service, outcome: "failed" }, counters.failed);
        this.inc({ service, outcome: "malformed" }, counters.malformed);
      }
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    recordRequest(name, method, status, durationSeconds) {
      const service = name === undefined ? undefined : source.service(name) ? name : UNKNOWN_SERVICE_LABEL;
      if (service === undefined) return;
      tally.record(service, methodClass(method), status, durationSeconds);
    },
  };
}
