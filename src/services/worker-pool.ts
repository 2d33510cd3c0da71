/**
 * Worker-aware dispatch for one service: a bounded queue, at most `window` requests in
 * flight per connected worker, deadlines, cancellation, and retry of idempotent requests
 * whose worker was lost. No socket code here: links move frames, the pool decides.
 *
 * Every submitted job settles exactly once: with the worker's reply payload, or with a
 * GatewayError (NO_WORKER, QUEUE_FULL, TIMEOUT, WORKER_LOST, CANCELLED, DRAINING).
 */
import type { WorkerMode } from "../config.js";
import { GatewayError } from "../errors.js";
import type { CorrelationIds} from "../protocol/frames.js";
import { encodeRequest, splitReply } from "../protocol/frames.js";
import { Worker, type WorkerJoin, type WorkerSnapshot } from "./worker.js";
import { WorkerLink, type LinkEvents, type LinkOptions } from "./worker-link.js";

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
  /** Absolute deadline on the `performance.now()` clock, ms. */
  deadline: number;
  /** Safe to send to a second worker when the first is lost. */
  idempotent: boolean;
  signal?: AbortSignal | undefined;
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
  maxAttempts: number;
  link: LinkOptions;
}

/** Monotonic counters; `sent = replied + lost + timedOutInFlight + cancelledInFlight + inFlight`. */
export interface PoolCounters {
  submitted: number;
  rejectedNoWorker: number;
  rejectedQueueFull: number;
  sent: number;
  replied: number;
  lost: number;
  retries: number;
  timedOutQueued: number;
  timedOutInFlight: number;
  cancelledQueued: number;
  cancelledInFlight: number;
  drained: number;
  lateReplies: number;
  unknownReplies: number;
  sendFailures: number;
  disconnects: number;
}

type CallState = "queued" | "sent" | "done";

interface Call {
  job: Job;
  resolve(result: JobResult): void;
  reject(error: GatewayError): void;
  state: CallState;
  attempts: number;
  timer: NodeJS.Timeout;
  /** performance.now() when the job was (re)queued. */
  queuedAt: number;
  attempt: Attempt | undefined;
  onAbort: (() => void) | undefined;
}

interface Attempt {
  key: number;
  call: Call;
  worker: Worker;
  /** active: the call waits for this reply; late/cancelled: answered already, reply dropped. */
  state: "active" | "late" | "cancelled";
  handle: AttemptHandle | undefined;
}

export class WorkerPool {
  readonly workers = new Map<string, Worker>();
  readonly counters: PoolCounters = {
    submitted: 0,
    rejectedNoWorker: 0,
    rejectedQueueFull: 0,
    sent: 0,
    replied: 0,
    lost: 0,
    retries: 0,
    timedOutQueued: 0,
    timedOutInFlight: 0,
    cancelledQueued: 0,
    cancelledInFlight: 0,
    drained: 0,
    lateReplies: 0,
    unknownReplies: 0,
    sendFailures: 0,
    disconnects: 0,
  };
  private readonly options: PoolOptions;
  private readonly ids: CorrelationIds;
  private readonly queue: Call[] = [];
  private readonly pending = new Map<number, Attempt>();
  private readonly idleWaiters: (() => void)[] = [];
  private unsettled = 0;
  private nextWorkerNumber = 1;
  private cursor = 0;
  private closed = false;
  private readonly linkEvents: LinkEvents;

  constructor(options: PoolOptions, ids: CorrelationIds) {
    this.options = options;
    this.ids = ids;
    this.linkEvents = {
      onMessage: (link, frames) => this.onMessage(link, frames),
      onPeersChanged: (link, peers, previous) => this.onPeersChanged(link, peers, previous),
      onSendFailed: (link, frames) => this.onSendFailed(link, frames),
    };
  }

  /** Requests waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Requests sent and not yet answered (late ones excluded). */
  get inFlight(): number {
    let count = 0;
    for (const attempt of this.pending.values()) if (attempt.state === "active") count++;
    return count;
  }

  /** Entries in the pending map, late and cancelled ones included. */
  get pendingSize(): number {
    return this.pending.size;
  }

  get connectedWorkers(): number {
    let count = 0;
    for (const worker of this.workers.values()) if (!worker.removed && worker.connected) count++;
    return count;
  }

  /**
   * Adds a worker: connect-out ("out") to a bound REP, or a bound connect-in endpoint
   * ("in"). Rejects if a bind fails; the worker is not added then.
   */
  async addWorker(kind: "in" | "out", endpoint: string, mode: WorkerMode, joined: WorkerJoin): Promise<Worker> {
    const id = `w${this.nextWorkerNumber++}`;
    const link = new WorkerLink(kind, endpoint, this.options.link, this.linkEvents);
    const worker = new Worker(id, link, mode, joined, this.options.window);
    try {
      await link.start();
    } catch (error) {
      link.close();
      throw error;
    }
    this.workers.set(id, worker);
    return worker;
  }

  /**
   * Stops giving the worker new requests; its in-flight requests are still answered, then
   * its socket closes. Returns false when no such worker.
   */
  removeWorker(id: string): boolean {
    const worker = this.workers.get(id);
    if (!worker || worker.removed) return false;
    worker.removed = true;
    this.closeIfDone(worker);
    return true;
  }

  snapshot(): WorkerSnapshot[] {
    return [...this.workers.values()].map((worker) => worker.snapshot());
  }

  /** Queues a job for the next free worker. Settles exactly once. */
  submit(job: Job): Promise<JobResult> {
    this.counters.submitted++;
    if (this.closed) return Promise.reject(new GatewayError("DRAINING"));
    if (this.connectedWorkers === 0) {
      this.counters.rejectedNoWorker++;
      return Promise.reject(new GatewayError("NO_WORKER", undefined, { retryAfterSeconds: 1 }));
    }
    if (this.queue.length >= this.options.queueLimit && !this.hasFreeWorker()) {
      this.counters.rejectedQueueFull++;
      return Promise.reject(new GatewayError("QUEUE_FULL", undefined, { retryAfterSeconds: 1 }));
    }
    if (job.signal?.aborted) {
      this.counters.cancelledQueued++;
      return Promise.reject(new GatewayError("CANCELLED"));
    }
    return new Promise<JobResult>((resolve, reject) => {
      const call: Call = {
        job,
        resolve,
        reject,
        state: "queued",
        attempts: 0,
        attempt: undefined,
        queuedAt: performance.now(),
        onAbort: undefined,
        timer: setTimeout(() => this.onDeadline(call), Math.max(0, job.deadline - performance.now())),
      };
      if (job.signal) {
        call.onAbort = () => this.onAbort(call);
        job.signal.addEventListener("abort", call.onAbort, { once: true });
      }
      this.unsettled++;
      this.queue.push(call);
      this.pump();
    });
  }

  private hasFreeWorker(): boolean {
    for (const worker of this.workers.values()) if (worker.free > 0) return true;
    return false;
  }

  /** The least-loaded worker with room, rotating among equals; undefined when none. */
  private pick(): Worker | undefined {
    const workers = [...this.workers.values()];
    let best: Worker | undefined;
    let bestLoad = Infinity;
    for (let i = 0; i < workers.length; i++) {
      const worker = workers[(this.cursor + i) % workers.length];
      if (!worker || worker.free <= 0) continue;
      const load = worker.inFlight / (worker.link.peers * worker.window);
      if (load < bestLoad) {
        best = worker;
        bestLoad = load;
        if (load === 0) break;
      }
    }
    this.cursor = (this.cursor + 1) % Math.max(1, workers.length);
    return best;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const worker = this.pick();
      if (!worker) return;
      const call = this.queue.shift();
      if (call) this.send(call, worker);
    }
  }

  private send(call: Call, worker: Worker): void {
    const { id, key } = this.ids.next();
    const now = performance.now();
    call.attempts++;
    const handle = this.options.observer?.attemptStarted({
      service: this.options.name,
      workerId: worker.id,
      endpoint: worker.link.endpoint,
      attempt: call.attempts,
      queuedMs: now - call.queuedAt,
      context: call.job.context,
    });
    const attempt: Attempt = { key, call, worker, state: "active", handle };
    this.pending.set(key, attempt);
    worker.inFlight++;
    call.state = "sent";
    call.attempt = attempt;
    this.counters.sent++;
    const left = Math.max(0, Math.round(call.job.deadline - now));
    worker.link.send(encodeRequest(id, call.job.encode(worker.mode, left, handle)));
  }

  /** Puts a call back at the head of the queue (its attempt did not count or was lost). */
  private requeue(call: Call): void {
    call.state = "queued";
    call.attempt = undefined;
    call.queuedAt = performance.now();
    this.queue.unshift(call);
  }

  private settle(call: Call): void {
    call.state = "done";
    clearTimeout(call.timer);
    if (call.onAbort) call.job.signal?.removeEventListener("abort", call.onAbort);
    this.unsettled--;
    if (this.unsettled === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private fail(call: Call, error: GatewayError): void {
    this.settle(call);
    call.reject(error);
  }

  private dequeue(call: Call): void {
    const index = this.queue.indexOf(call);
    if (index >= 0) this.queue.splice(index, 1);
  }

  /** Frees the worker slot an attempt held. */
  private release(attempt: Attempt): void {
    this.pending.delete(attempt.key);
    attempt.worker.inFlight--;
    if (attempt.state === "late") attempt.worker.late--;
  }

  private onMessage(link: WorkerLink, frames: Buffer[]): void {
    const reply = splitReply(frames);
    const key = this.ids.keyOf(reply?.id);
    const attempt = key === undefined ? undefined : this.pending.get(key);
    if (!reply || !attempt || attempt.worker.link !== link) {
      if (key !== undefined && key > 0) this.counters.lateReplies++;
      else this.counters.unknownReplies++;
      return;
    }
    const { worker, call } = attempt;
    this.release(attempt);
    worker.lastSeenMs = Date.now();
    if (attempt.state === "active") {
      attempt.handle?.end("replied");
      this.counters.replied++;
      worker.served++;
      this.settle(call);
      call.resolve({ payload: reply.payload, mode: worker.mode, workerId: worker.id, attempts: call.attempts });
    } else if (attempt.state === "late") {
      this.counters.lateReplies++;
    }
    this.closeIfDone(worker);
    this.pump();
  }

  private onSendFailed(link: WorkerLink, frames: Buffer[]): void {
    const key = this.ids.keyOf(frames[0]);
    const attempt = key === undefined ? undefined : this.pending.get(key);
    this.counters.sendFailures++;
    if (!attempt) return;
    const { worker, call } = attempt;
    this.release(attempt);
    this.counters.sent--; // it never left the gateway
    worker.sendBlocked = link.peers > 0;
    if (attempt.state === "active") {
      attempt.handle?.end("send-failed");
      call.attempts--;
      this.requeue(call);
    }
    this.closeIfDone(worker);
    this.pump();
  }

  private onPeersChanged(link: WorkerLink, peers: number, previous: number): void {
    const worker = [...this.workers.values()].find((candidate) => candidate.link === link);
    if (!worker) return;
    worker.sendBlocked = false;
    if (peers > previous) {
      worker.lastSeenMs = Date.now();
    } else {
      this.counters.disconnects += previous - peers;
      this.onPeerLost(worker);
    }
    this.pump();
  }

  /**
   * A connect-out worker that disconnects took its requests with it: retry the idempotent
   * ones elsewhere, fail the rest at once. On a connect-in endpoint the lost peer's
   * requests cannot be told apart, so they run to their deadline; only slots of requests
   * already answered (late, cancelled) are freed.
   */
  private onPeerLost(worker: Worker): void {
    for (const attempt of [...this.pending.values()]) {
      if (attempt.worker !== worker) continue;
      if (worker.link.kind === "in" && attempt.state === "active") continue;
      this.release(attempt);
      if (attempt.state !== "active") continue;
      attempt.handle?.end("lost");
      this.counters.lost++;
      worker.failures++;
      const { call } = attempt;
      if (call.job.idempotent && call.attempts < this.options.maxAttempts && !this.closed) {
        this.counters.retries++;
        this.requeue(call);
      } else {
        this.fail(call, new GatewayError("WORKER_LOST", "the worker was lost while it held the request; it was not retried"));
      }
    }
    this.closeIfDone(worker);
  }

  private onDeadline(call: Call): void {
    if (call.state === "queued") {
      this.dequeue(call);
      this.counters.timedOutQueued++;
    } else if (call.state === "sent" && call.attempt) {
      call.attempt.state = "late";
      call.attempt.handle?.end("timeout");
      call.attempt.worker.late++;
      call.attempt.worker.timeouts++;
      this.counters.timedOutInFlight++;
    } else {
      return;
    }
    this.fail(call, new GatewayError("TIMEOUT"));
    this.pump();
  }

  private onAbort(call: Call): void {
    if (call.state === "queued") {
      this.dequeue(call);
      this.counters.cancelledQueued++;
    } else if (call.state === "sent" && call.attempt) {
      call.attempt.state = "cancelled";
      call.attempt.handle?.end("cancelled");
      this.counters.cancelledInFlight++;
    } else {
      return;
    }
    this.fail(call, new GatewayError("CANCELLED"));
  }

  private closeIfDone(worker: Worker): void {
    if (!worker.removed || worker.inFlight - worker.late > 0) return;
    for (const attempt of [...this.pending.values()]) if (attempt.worker === worker) this.release(attempt);
    this.workers.delete(worker.id);
    worker.link.close();
  }

  /** Resolves when no job is queued or in flight (late replies are not waited for). */
  whenIdle(): Promise<void> {
    if (this.unsettled === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Refuses new jobs, fails everything still unsettled with DRAINING, and closes every
   * socket. Call after `whenIdle()` or a drain deadline.
   */
  close(): void {
    this.closed = true;
    for (const call of this.queue.splice(0)) {
      this.counters.drained++;
      this.fail(call, new GatewayError("DRAINING"));
    }
    for (const attempt of [...this.pending.values()]) {
      this.release(attempt);
      if (attempt.state === "active" && attempt.call.state !== "done") {
        attempt.handle?.end("drained");
        this.counters.drained++;
        this.fail(attempt.call, new GatewayError("DRAINING"));
      }
    }
    for (const worker of this.workers.values()) worker.link.close();
  }

  /** Stops accepting jobs without failing those under way (drain has begun). */
  stopAccepting(): void {
    this.closed = true;
  }
}
