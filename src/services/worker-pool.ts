/**
 * Worker-aware dispatch for one service. No socket code here: links move frames, the
 * pool decides who gets what.
 *
 * - At most `window` requests in flight per connected worker (1 by default: a REP worker
 *   serves one at a time); the rest wait in a bounded queue and go to the least-loaded
 *   worker that has room. No request waits behind a busy worker while another is idle.
 * - Deadlines: a queued request whose deadline passes is answered TIMEOUT and never sent.
 *   A worker that misses a deadline is suspect (gets nothing new) until its late reply
 *   arrives; after `outlier.consecutiveTimeouts` misses it is ejected for a while.
 * - A lost connect-out worker: its requests are retried on a different worker when safe
 *   (idempotent, attempts and retry budget left), otherwise failed WORKER_LOST at once.
 * - Cancellation: an aborted request is never sent if still queued; if sent, its reply is
 *   dropped.
 *
 * Every submitted job settles exactly once: with the worker's reply payload, or with a
 * GatewayError (NO_WORKER, UNHEALTHY, QUEUE_FULL, TIMEOUT, WORKER_LOST, CANCELLED, DRAINING).
 * The pool's bookkeeping settles at once; the caller hears of it at the end of the
 * event-loop turn, together with every other call settled in that turn (turn-batch.ts).
 */
import type { WorkerMode } from "../config.js";
import { GatewayError } from "../errors.js";
import type { CorrelationIds } from "../protocol/frames.js";
import { encodeRequest, splitReply } from "../protocol/frames.js";
import { requestFields, type Logger } from "../telemetry/logger.js";
import { emptyCounters, type AttemptHandle, type Job, type JobResult, type PoolCounters, type PoolOptions } from "./pool-types.js";
import { RetryBudget } from "./retry-budget.js";
import { TurnBatch } from "./turn-batch.js";
import { Worker, type WorkerJoin, type WorkerSnapshot } from "./worker.js";
import { WorkerLink, type LinkEvents, type LinkExtras } from "./worker-link.js";

export type { AttemptHandle, AttemptInfo, AttemptOutcome, Job, JobResult, PoolCounters, PoolObserver, PoolOptions, TraceFields } from "./pool-types.js";

interface Call {
  job: Job;
  resolve: (result: JobResult) => void;
  reject: (error: GatewayError) => void;
  state: "queued" | "sent" | "done";
  attempts: number;
  /** Workers already tried: a retry goes elsewhere. */
  tried: PoolWorker[];
  /** Counted in the retry budget while true. */
  retrying: boolean;
  timer: NodeJS.Timeout;
  tryTimer: NodeJS.Timeout | undefined;
  /** performance.now() when the job was (re)queued. */
  queuedAt: number;
  attempt: Attempt | undefined;
}

interface Attempt {
  key: number;
  /** performance.now() when sent. */
  sentAt: number;
  call: Call;
  worker: PoolWorker;
  /** active: the call waits for this reply; late/cancelled: answered already, reply dropped. */
  state: "active" | "late" | "cancelled";
  handle: AttemptHandle | undefined;
}

/** A worker holding this pool's attempt records (its `outstanding` list). */
type PoolWorker = Worker<Attempt>;

/** Binds a fresh link on an endpoint a closing socket may still hold for a moment (up to ~2 s). */
async function bindFresh(create: () => WorkerLink): Promise<WorkerLink> {
  for (let attempt = 0; ; attempt++) {
    const link = create();
    try {
      await link.start();
      return link;
    } catch (error) {
      link.close();
      if (attempt >= 100 || (error as { code?: string }).code !== "EADDRINUSE") throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/**
 * A timer delay, whole milliseconds, rounded up (a deadline timer never fires early).
 * Node keeps one timer list per distinct delay and does not round: a delay such as
 * 29999.87 ms would give every request a list of its own, with a priority-queue insert
 * and removal each, where equal whole delays share one list and append in O(1).
 */
function timerDelayMs(ms: number): number {
  return Math.max(0, Math.ceil(ms));
}

/** How many queued calls pump() looks past the head for one a free worker may take. */
const QUEUE_SCAN_LIMIT = 64;
/**
 * Pipelining guard: a busy connect-out worker gets another request only while the one it
 * serves has been out for less than STALL_FACTOR times the pool's typical reply time
 * (and at least STALL_FLOOR_MS). A worker stuck in a slow request thus stops collecting
 * fast ones behind it; they wait in the gateway's queue for whichever worker frees first.
 */
const STALL_FACTOR = 4;
const STALL_FLOOR_MS = 2;
/** Weight of each new reply time in the pool's moving average. */
const LATENCY_EWMA_WEIGHT = 0.05;

export class WorkerPool {
  readonly counters: PoolCounters = emptyCounters();
  private readonly options: PoolOptions;
  private readonly ids: CorrelationIds;
  private readonly logger: Logger | undefined;
  private readonly budget: RetryBudget;
  private readonly workerList: PoolWorker[] = [];
  private readonly byLink = new Map<WorkerLink, PoolWorker>();
  private readonly queue: Call[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private readonly ejectionTimers = new Set<NodeJS.Timeout>();
  private readonly linkEvents: LinkEvents;
  /** Results and idle wake-ups on their way to the callers, in the order they happened. */
  private readonly deliveries = new TurnBatch();
  private unsettled = 0;
  private nextWorkerNumber = 1;
  private cursor = 0;
  private closed = false;
  /** Moving average of send-to-reply times, ms (the pipelining guard's yardstick). */
  private latencyMs = 0;

  constructor(options: PoolOptions, ids: CorrelationIds, logger?: Logger) {
    this.options = options;
    this.ids = ids;
    this.logger = logger;
    this.budget = new RetryBudget(options.retry.budgetPercent, options.retry.minRetryConcurrency);
    this.linkEvents = {
      onMessage: (link, frames) => this.onMessage(link, frames),
      onPeersChanged: (link, peers, previous) => this.onPeersChanged(link, peers, previous),
      onSendFailed: (link, frames) => this.onSendFailed(link, frames),
    };
  }

  /** Whether a worker with this id is in the pool (a removed one finishing its work counts). */
  hasWorker(id: string): boolean {
    return this.workerList.some((worker) => worker.id === id);
  }

  /** Requests waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Requests sent and not yet answered (late ones excluded). */
  get inFlight(): number {
    let count = 0;
    for (const worker of this.workerList) for (const attempt of worker.outstanding) if (attempt.state === "active") count++;
    return count;
  }

  /** Attempts the workers still hold, late and cancelled ones included. */
  get pendingSize(): number {
    let count = 0;
    for (const worker of this.workerList) count += worker.outstanding.size;
    return count;
  }

  get connectedWorkers(): number {
    let count = 0;
    for (const worker of this.workerList) if (!worker.removed && worker.connected) count++;
    return count;
  }

  /**
   * Adds a worker: connect-out ("out") to a bound REP, or a bound connect-in endpoint
   * ("in"). Rejects if a bind fails; the worker is not added then.
   */
  async addWorker(kind: "in" | "out", endpoint: string, mode: WorkerMode, joined: WorkerJoin, extras: LinkExtras = {}): Promise<PoolWorker> {
    const id = `w${this.nextWorkerNumber++}`;
    const link = new WorkerLink(kind, endpoint, this.options.link, this.linkEvents, extras);
    const worker: PoolWorker = new Worker<Attempt>(id, link, mode, joined, this.options.window);
    this.byLink.set(link, worker);
    try {
      await link.start();
    } catch (error) {
      this.byLink.delete(link);
      link.close();
      throw error;
    }
    this.workerList.push(worker);
    return worker;
  }

  /**
   * Stops giving the worker new requests; its in-flight requests are still answered, then
   * its socket closes. Returns false when no such worker; throws BAD_REQUEST for the
   * connect-in endpoint (config owns it).
   */
  removeWorker(id: string): boolean {
    const worker = this.workerList.find((candidate) => candidate.id === id);
    if (!worker || worker.removed) return false;
    if (worker.link.kind === "in") {
      throw new GatewayError("BAD_REQUEST", "a connect-in endpoint is part of the service's config and cannot be removed; stop its workers instead");
    }
    worker.removed = true;
    this.closeIfDone(worker);
    return true;
  }

  snapshot(): WorkerSnapshot[] {
    return this.workerList.map((worker) => worker.snapshot());
  }

  /** Queues a job for the next free worker. Settles exactly once. */
  submit(job: Job): Promise<JobResult> {
    return new Promise<JobResult>((resolve, reject) => this.enqueue(job, resolve, reject));
  }

  /**
   * `submit` without its Promise: exactly one of `onResult` or `onError` is called, once,
   * at the end of the event-loop turn in which the job settled (a refusal too: never
   * inside this call). For a caller that turns the result into something else before it
   * answers (Service.call): one Promise and one microtask hop fewer per request than
   * awaiting `submit`. The callbacks must not throw (see TurnBatch.defer).
   */
  enqueue(job: Job, onResult: (result: JobResult) => void, onError: (error: GatewayError) => void): void {
    this.counters.submitted++;
    const refusal = this.refusal();
    if (refusal) {
      this.deliveries.defer(onError, refusal);
      return;
    }
    const call: Call = {
      job,
      resolve: onResult,
      reject: onError,
      state: "queued",
      attempts: 0,
      tried: [],
      retrying: false,
      attempt: undefined,
      queuedAt: performance.now(),
      tryTimer: undefined,
      timer: setTimeout(() => this.onDeadline(call), timerDelayMs(job.deadline - performance.now())),
    };
    this.unsettled++;
    this.queue.push(call);
    job.cancellable?.(() => this.onAbort(call));
    this.pump();
  }

  /** Why a new job is refused at once (counted), or undefined when it may queue. */
  private refusal(): GatewayError | undefined {
    if (this.closed) return new GatewayError("DRAINING");
    const connected = this.connectedWorkers;
    if (connected === 0) {
      this.counters.rejectedNoWorker++;
      return new GatewayError("NO_WORKER", undefined, { retryAfterSeconds: 1 });
    }
    if (this.hasFreeWorker()) return undefined;
    const ejected = this.workerList.filter((worker) => worker.connected && worker.ejected).length;
    if (ejected * 2 >= connected) {
      this.counters.rejectedFailFast++;
      return new GatewayError("UNHEALTHY", `${ejected} of ${connected} workers are ejected`, { retryAfterSeconds: 1 });
    }
    if (this.queue.length >= this.options.queueLimit) {
      this.counters.rejectedQueueFull++;
      return new GatewayError("QUEUE_FULL", undefined, { retryAfterSeconds: 1 });
    }
    return undefined;
  }

  private hasFreeWorker(): boolean {
    for (const worker of this.workerList) if (worker.free > 0) return true;
    return false;
  }

  /** A connected worker that `call` has not tried yet exists (busy or not). */
  private hasOtherWorker(call: Call): boolean {
    return this.workerList.some((worker) => !worker.removed && worker.connected && !call.tried.includes(worker));
  }

  /**
   * The least-loaded worker with room and not in `excluded`; among equals, the one whose
   * current request started last (least likely a slow one), rotating among the rest.
   * Busy connect-out workers whose current request is stalled are skipped.
   */
  private pick(excluded: readonly PoolWorker[]): PoolWorker | undefined {
    const workers = this.workerList;
    const count = workers.length;
    const now = performance.now();
    const stallMs = Math.max(STALL_FLOOR_MS, STALL_FACTOR * this.latencyMs);
    let best: PoolWorker | undefined;
    let bestLoad = Infinity;
    let bestAge = Infinity;
    for (let i = 0; i < count; i++) {
      const worker = workers[(this.cursor + i) % count];
      if (!worker || worker.free <= 0 || (excluded.length > 0 && excluded.includes(worker))) continue;
      const load = worker.inFlight / worker.capacity;
      if (load === 0) {
        best = worker;
        break;
      }
      const age = worker.link.kind === "out" ? worker.headAgeMs(now) : 0;
      if (age > stallMs) continue;
      if (load < bestLoad || (load === bestLoad && age < bestAge)) {
        best = worker;
        bestLoad = load;
        bestAge = age;
      }
    }
    this.cursor = count === 0 ? 0 : (this.cursor + 1) % count;
    return best;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const worker = this.pick(head.tried);
      if (worker) {
        this.queue.shift();
        this.send(head, worker);
        continue;
      }
      // The head may only be excluded (a retry): let a later call take a free worker.
      if (head.tried.length === 0 || !this.sendOneBehindHead()) return;
    }
  }

  private sendOneBehindHead(): boolean {
    const limit = Math.min(this.queue.length, QUEUE_SCAN_LIMIT);
    for (let index = 1; index < limit; index++) {
      const call = this.queue[index]!;
      const worker = this.pick(call.tried);
      if (worker) {
        this.queue.splice(index, 1);
        this.send(call, worker);
        return true;
      }
    }
    return false;
  }

  private send(call: Call, worker: PoolWorker): void {
    const { id, key } = this.ids.next();
    const now = performance.now();
    call.attempts++;
    call.tried.push(worker);
    const handle = this.options.observer?.attemptStarted({
      service: this.options.name,
      workerId: worker.id,
      endpoint: worker.link.endpoint,
      attempt: call.attempts,
      queuedMs: now - call.queuedAt,
      mode: worker.mode,
      context: call.job.context,
    });
    const attempt: Attempt = { key, sentAt: now, call, worker, state: "active", handle };
    worker.outstanding.add(attempt);
    call.state = "sent";
    call.attempt = attempt;
    this.counters.sent++;
    const left = call.job.deadline - now;
    const perTry = this.options.retry.perTryTimeoutMs;
    if (perTry !== undefined && perTry < left) call.tryTimer = setTimeout(() => this.onTryTimeout(call, attempt), perTry);
    worker.link.send(encodeRequest(id, call.job.encode(worker.mode, Math.max(0, Math.round(left)), handle)));
  }

  /** Puts a call back at the head of the queue. */
  private requeue(call: Call): void {
    clearTimeout(call.tryTimer);
    call.state = "queued";
    call.attempt = undefined;
    call.queuedAt = performance.now();
    this.queue.unshift(call);
  }

  /**
   * Marks the call done and hands `value` to `deliver` (the call's resolve or reject) at
   * the end of the turn. Idle waiters are woken through the same batch, after it, so the
   * drain hears "idle" only once the last caller has its answer.
   */
  private settle<T>(call: Call, deliver: (value: T) => void, value: T): void {
    call.state = "done";
    clearTimeout(call.timer);
    clearTimeout(call.tryTimer);
    if (call.retrying) this.budget.active--;
    this.unsettled--;
    this.deliveries.defer(deliver, value);
    if (this.unsettled === 0) for (const wake of this.idleWaiters.splice(0)) this.deliveries.defer(wake, undefined);
  }

  private fail(call: Call, error: GatewayError): void {
    this.settle(call, call.reject, error);
  }

  /**
   * After an attempt failed (worker lost, or a per-try timeout with retry.onTimeout):
   * retry on another worker when safe and within budget, else fail with `error`.
   */
  private retryOrFail(call: Call, error: GatewayError, reason: string): void {
    const safe = !this.closed && call.job.idempotent && call.attempts < this.options.retry.maxAttempts && this.hasOtherWorker(call);
    if (safe && this.budget.allows(this.unsettled)) {
      this.counters.retries++;
      if (!call.retrying) {
        call.retrying = true;
        this.budget.active++;
      }
      this.logger?.info({ event: "retry", service: this.options.name, attempt: call.attempts + 1, reason, ...requestFields(call.job.requestId, call.job.context) }, "retrying on another worker");
      this.requeue(call);
      return;
    }
    if (safe) this.counters.retriesDenied++;
    this.logger?.info({ event: "attempt-failed", service: this.options.name, attempts: call.attempts, reason, retried: false, ...requestFields(call.job.requestId, call.job.context) }, "not retried");
    this.fail(call, error);
  }

  private dequeue(call: Call): void {
    const index = this.queue.indexOf(call);
    if (index >= 0) this.queue.splice(index, 1);
  }

  /** Frees the worker slot an attempt held. */
  private release(attempt: Attempt): void {
    attempt.worker.outstanding.delete(attempt.key);
    if (attempt.state === "late") attempt.worker.late--;
  }

  /** The attempt missed its deadline: the worker is suspect, maybe ejected. */
  private markLate(attempt: Attempt): void {
    const { worker } = attempt;
    attempt.state = "late";
    attempt.handle?.end("timeout");
    worker.late++;
    worker.timeouts++;
    worker.consecutiveTimeouts++;
    this.counters.timedOutInFlight++;
    if (worker.consecutiveTimeouts >= this.options.outlier.consecutiveTimeouts) this.eject(worker, attempt.call);
  }

  /** `cause`: the call whose missed deadline tipped the worker over (its line names it). */
  private eject(worker: PoolWorker, cause: Call): void {
    const { baseEjectionMs, maxEjectionMs } = this.options.outlier;
    worker.ejections++;
    worker.consecutiveTimeouts = 0;
    const durationMs = Math.min(baseEjectionMs * worker.ejections, maxEjectionMs);
    worker.ejectedUntil = performance.now() + durationMs;
    this.counters.ejections++;
    this.logger?.warn(
      { event: "worker-ejected", service: this.options.name, worker: worker.id, endpoint: worker.link.endpoint, durationMs, ...requestFields(cause.job.requestId, cause.job.context) },
      "worker ejected",
    );
    const timer = setTimeout(() => {
      this.ejectionTimers.delete(timer);
      this.pump();
    }, durationMs + 1);
    this.ejectionTimers.add(timer);
  }

  private onMessage(link: WorkerLink, frames: Buffer[]): void {
    const reply = splitReply(frames);
    const key = this.ids.keyOf(reply?.id);
    const attempt = key === undefined ? undefined : this.byLink.get(link)?.outstanding.get(key);
    if (!reply || !attempt) {
      if (key !== undefined && key > 0) this.counters.lateReplies++;
      else this.counters.unknownReplies++;
      return;
    }
    const { worker, call } = attempt;
    const state = attempt.state;
    this.release(attempt);
    worker.lastSeenMs = Date.now();
    if (state === "active") {
      this.latencyMs += LATENCY_EWMA_WEIGHT * (performance.now() - attempt.sentAt - this.latencyMs);
      attempt.handle?.end("replied");
      worker.consecutiveTimeouts = 0;
      this.counters.replied++;
      worker.served++;
      this.settle(call, call.resolve, { payload: reply.payload, mode: worker.mode, workerId: worker.id, attempts: call.attempts });
    } else if (state === "late") {
      this.counters.lateReplies++;
    }
    this.closeIfDone(worker);
    this.pump();
  }

  private onSendFailed(link: WorkerLink, frames: Buffer[]): void {
    const key = this.ids.keyOf(frames[0]);
    const attempt = key === undefined ? undefined : this.byLink.get(link)?.outstanding.get(key);
    this.counters.sendFailures++;
    if (!attempt) return;
    const { worker, call } = attempt;
    this.release(attempt);
    this.counters.sent--; // it never left the gateway
    worker.sendBlocked = link.peers > 0;
    if (attempt.state === "active") {
      attempt.handle?.end("send-failed");
      call.attempts--;
      call.tried.pop();
      this.requeue(call);
    }
    this.closeIfDone(worker);
    this.pump();
  }

  private onPeersChanged(link: WorkerLink, peers: number, previous: number): void {
    const worker = this.byLink.get(link);
    if (!worker) return;
    worker.sendBlocked = false;
    if (peers > previous) {
      worker.lastSeenMs = Date.now();
    } else {
      this.counters.disconnects += previous - peers;
      this.logger?.warn({ event: "worker-disconnected", service: this.options.name, worker: worker.id, endpoint: link.endpoint }, "worker disconnected");
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
  private onPeerLost(worker: PoolWorker, allLost = false): void {
    for (const attempt of worker.outstanding.toArray()) {
      if (!allLost && worker.link.kind === "in" && attempt.state === "active") continue;
      const state = attempt.state;
      this.release(attempt);
      if (state !== "active") continue;
      attempt.handle?.end("lost");
      this.counters.lost++;
      worker.failures++;
      this.counters.failedLost++;
      const lost = new GatewayError("WORKER_LOST", "the worker was lost while it held the request; it was not retried");
      this.retryOrFail(attempt.call, lost, "worker lost");
    }
    this.closeIfDone(worker);
  }

  private onTryTimeout(call: Call, attempt: Attempt): void {
    if (call.state !== "sent" || call.attempt !== attempt || attempt.state !== "active") return;
    this.markLate(attempt);
    if (this.options.retry.onTimeout) this.retryOrFail(call, new GatewayError("TIMEOUT", "the worker did not answer within the per-try timeout"), "per-try timeout");
    else this.fail(call, new GatewayError("TIMEOUT", "the worker did not answer within the per-try timeout"));
    this.pump();
  }

  private onDeadline(call: Call): void {
    if (call.state === "queued") {
      this.dequeue(call);
      this.counters.timedOutQueued++;
    } else if (call.state === "sent" && call.attempt) {
      this.markLate(call.attempt);
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

  private closeIfDone(worker: PoolWorker): void {
    if (!worker.removed || worker.inFlight - worker.late > 0) return;
    for (const attempt of worker.outstanding.toArray()) this.release(attempt);
    const index = this.workerList.indexOf(worker);
    if (index < 0) return;
    this.workerList.splice(index, 1);
    this.byLink.delete(worker.link);
    worker.link.close();
  }

  /** Resolves when no job is queued or in flight (late replies are not waited for). */
  whenIdle(): Promise<void> {
    if (this.unsettled === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Closes and re-binds every connect-in endpoint, so each peer reconnects and passes the
   * ZAP check again (libzmq's unbind keeps accepted connections open; only closing the
   * socket drops them). Requests held on the old socket are certainly lost: retried when
   * safe, failed WORKER_LOST otherwise.
   */
  async renewConnectIn(): Promise<void> {
    for (const worker of this.workerList.filter((candidate) => candidate.link.kind === "in")) {
      const old = worker.link;
      this.byLink.delete(old);
      old.close();
      this.onPeerLost(worker, true);
      const link = await bindFresh(() => new WorkerLink("in", old.endpoint, this.options.link, this.linkEvents));
      this.byLink.set(link, worker);
      worker.link = link;
      worker.sendBlocked = false;
    }
    this.pump();
  }

  /** Stops accepting jobs without failing those under way (drain has begun). */
  stopAccepting(): void {
    this.closed = true;
  }

  /**
   * Refuses new jobs, fails everything still unsettled with DRAINING, and closes every
   * socket. Call after `whenIdle()` or a drain deadline.
   */
  close(): void {
    this.closed = true;
    for (const timer of this.ejectionTimers) clearTimeout(timer);
    this.ejectionTimers.clear();
    for (const call of this.queue.splice(0)) {
      this.counters.drainedQueued++;
      this.fail(call, new GatewayError("DRAINING"));
    }
    for (const attempt of this.workerList.flatMap((worker) => worker.outstanding.toArray())) {
      const state = attempt.state;
      this.release(attempt);
      if (state === "active" && attempt.call.state !== "done") {
        attempt.handle?.end("drained");
        this.counters.drainedInFlight++;
        this.fail(attempt.call, new GatewayError("DRAINING"));
      }
    }
    for (const worker of this.workerList.splice(0)) {
      this.byLink.delete(worker.link);
      worker.link.close();
    }
  }
}
