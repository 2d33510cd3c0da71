/**
 * A worker as the pool sees it: one link (one socket) plus the state and counters that
 * dispatch needs. A connect-in endpoint is one Worker whose capacity grows with the
 * number of REP peers connected to it.
 */
import type { WorkerMode } from "../config.js";
import { Outstanding, type Keyed } from "./outstanding.js";
import type { WorkerLink } from "./worker-link.js";

export type WorkerJoin = "config" | "admin" | "connect-in";
export type WorkerState = "idle" | "busy" | "suspect" | "ejected" | "disconnected" | "removing";

/** Requests a connect-in peer may be handed at least (see Worker.capacity). */
export const CONNECT_IN_DEPTH = 16;

/** What a worker keeps of each attempt it holds. */
export interface SentAttempt extends Keyed {
  /** performance.now() when it was sent. */
  readonly sentAt: number;
}

/** `A`: the pool's attempt record, kept as is so a reply finds it with one lookup. */
export class Worker<A extends SentAttempt = SentAttempt> {
  readonly id: string;
  /** Replaced when a connect-in endpoint is renewed (see WorkerPool.renewConnectIn). */
  link: WorkerLink;
  readonly mode: WorkerMode;
  readonly joined: WorkerJoin;
  /** Requests each connected peer may hold at once. */
  readonly window: number;
  /** Of `inFlight`, those whose request already timed out (the worker is suspect). */
  late = 0;
  served = 0;
  failures = 0;
  timeouts = 0;
  /** Set when a send found no ready peer; cleared on the next connection change. */
  sendBlocked = false;
  removed = false;
  /**
   * Unanswered attempts (late ones included) in send order: the first is the request a
   * REP worker is serving now.
   */
  readonly outstanding = new Outstanding<A>();
  /** Epoch milliseconds of the last reply or connection, 0 when never seen. */
  lastSeenMs = 0;
  /** Timeouts since the last reply (outlier detection). */
  consecutiveTimeouts = 0;
  /** How often this worker was ejected; each ejection lasts longer. */
  ejections = 0;
  /** performance.now() until which the worker gets nothing; 0 when not ejected. */
  ejectedUntil = 0;

  constructor(id: string, link: WorkerLink, mode: WorkerMode, joined: WorkerJoin, window: number) {
    this.id = id;
    this.link = link;
    this.mode = mode;
    this.joined = joined;
    this.window = window;
  }

  /** Attempts that occupy the worker: answered or not, until their reply or loss. */
  get inFlight(): number {
    return this.outstanding.size;
  }

  get connected(): boolean {
    return this.link.peers > 0;
  }

  get ejected(): boolean {
    return this.ejectedUntil > 0 && performance.now() < this.ejectedUntil;
  }

  /** How many more attempts this worker may take now. */
  get free(): number {
    if (this.removed || this.sendBlocked || this.link.peers === 0 || this.ejected) return 0;
    // A connect-out worker with a timed-out request is suspect: nothing new until it answers.
    if (this.link.kind === "out" && this.late > 0) return 0;
    return this.capacity - this.inFlight;
  }

  /**
   * Attempts this worker may hold at once. A connect-out worker: its window. A connect-in
   * endpoint: libzmq round-robins blindly among its peers, so a cap of one window per peer
   * lets one slow peer collect every slot and stall the endpoint while the others idle;
   * a deeper pipeline (at least CONNECT_IN_DEPTH per peer) keeps the others fed, as a
   * plain DEALER would, and still bounds what a hung peer can hold.
   */
  get capacity(): number {
    return this.link.peers * (this.link.kind === "in" ? Math.max(this.window, CONNECT_IN_DEPTH) : this.window);
  }

  /** How long the oldest unanswered attempt has been out, ms; 0 when none. */
  headAgeMs(now: number): number {
    const first = this.outstanding.first();
    return first ? now - first.sentAt : 0;
  }

  get state(): WorkerState {
    if (this.removed) return "removing";
    if (!this.connected) return "disconnected";
    if (this.ejected) return "ejected";
    if (this.late > 0) return "suspect";
    return this.inFlight > 0 ? "busy" : "idle";
  }

  snapshot() {
    return {
      id: this.id,
      endpoint: this.link.endpoint,
      joined: this.joined,
      mode: this.mode,
      state: this.state,
      connected: this.connected,
      peers: this.link.peers,
      inFlight: this.inFlight - this.late,
      served: this.served,
      failures: this.failures,
      timeouts: this.timeouts,
      ejections: this.ejections,
      ejectedUntil: this.ejected ? new Date(Date.now() + this.ejectedUntil - performance.now()).toISOString() : null,
      lastSeen: this.lastSeenMs ? new Date(this.lastSeenMs).toISOString() : null,
    };
  }
}

export type WorkerSnapshot = ReturnType<Worker["snapshot"]>;
