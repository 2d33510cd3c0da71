/**
 * The pool's vocabulary: jobs in, results out, and the observer that sees every attempt.
 */
import type { ServiceConfig, WorkerMode } from "../config.js";
import type { LinkOptions } from "./worker-link.js";

/** W3C trace context of one attempt, for meta workers. */
export interface TraceFields {
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

export interface Job {
  /** Payload frames for a worker of this mode; `deadlineMs` is the time left. */
  encode(mode: WorkerMode, deadlineMs: number, trace: TraceFields | undefined): Buffer[];
  /** Opaque to the pool; handed to the observer (e.g. the caller's trace context). */
  context?: unknown;
  /** The HTTP request id, for the pool's log lines about this job. */
  requestId?: string | undefined;
  /** Absolute deadline on the `performance.now()` clock, ms. */
  deadline: number;
  /** Safe to send to a second worker when the first is lost (idempotent method or key). */
  idempotent: boolean;
  /**
   * Called once at submit with the job's cancel function, for the caller to keep and call
   * when its client goes away (an EventTarget AbortSignal costs microseconds per request).
   * Cancelling a settled job does nothing.
   */
  cancellable?: ((cancel: () => void) => void) | undefined;
}

export interface JobResult {
  payload: Buffer[];
  mode: WorkerMode;
  workerId: string;
  attempts: number;
}

export type AttemptOutcome = "replied" | "timeout" | "lost" | "cancelled" | "drained" | "send-failed";

export interface AttemptInfo {
  service: string;
  workerId: string;
  endpoint: string;
  /** 1 for the first attempt, 2 for the first retry... */
  attempt: number;
  /** Milliseconds the job waited in the queue before this attempt. */
  queuedMs: number;
  /** The worker's protocol: only a meta worker receives trace fields. */
  mode: WorkerMode;
  context: unknown;
}

export interface AttemptHandle extends TraceFields {
  end(outcome: AttemptOutcome): void;
}

/** Sees every attempt (tracing, metrics); it must not throw. */
export interface PoolObserver {
  attemptStarted(info: AttemptInfo): AttemptHandle | undefined;
}

export interface PoolOptions {
  /** The service name, for observers and logs. */
  name: string;
  observer?: PoolObserver | undefined;
  window: number;
  queueLimit: number;
  retry: ServiceConfig["retry"];
  outlier: ServiceConfig["outlier"];
  link: LinkOptions;
}

/**
 * Monotonic counters. At rest (nothing in flight) they add up:
 *   sent = replied + lost + timedOutInFlight + cancelledInFlight + drainedInFlight
 *   submitted = rejectedNoWorker + rejectedQueueFull + rejectedFailFast + answered
 * where every attempt that was `sent` ends in exactly one of the right-hand terms.
 */
export interface PoolCounters {
  submitted: number;
  rejectedNoWorker: number;
  rejectedQueueFull: number;
  rejectedFailFast: number;
  sent: number;
  replied: number;
  lost: number;
  retries: number;
  retriesDenied: number;
  timedOutQueued: number;
  timedOutInFlight: number;
  cancelledQueued: number;
  cancelledInFlight: number;
  drainedQueued: number;
  drainedInFlight: number;
  failedLost: number;
  lateReplies: number;
  unknownReplies: number;
  sendFailures: number;
  disconnects: number;
  ejections: number;
}

export function emptyCounters(): PoolCounters {
  return {
    submitted: 0,
    rejectedNoWorker: 0,
    rejectedQueueFull: 0,
    rejectedFailFast: 0,
    sent: 0,
    replied: 0,
    lost: 0,
    retries: 0,
    retriesDenied: 0,
    timedOutQueued: 0,
    timedOutInFlight: 0,
    cancelledQueued: 0,
    cancelledInFlight: 0,
    drainedQueued: 0,
    drainedInFlight: 0,
    failedLost: 0,
    lateReplies: 0,
    unknownReplies: 0,
    sendFailures: 0,
    disconnects: 0,
    ejections: 0,
  };
}
