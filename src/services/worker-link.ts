/**
 * One ZeroMQ DEALER socket and everything that touches it: the receive loop, sends, and
 * connection tracking from monitor events. The pool decides what to send; the link only
 * moves frames.
 *
 * Two shapes:
 * - "out": the gateway connects to one bound REP worker (connect-out). `peers` is 0 or 1.
 * - "in": the gateway binds and any number of REP workers connect (connect-in). ZMTP does
 *   not let a ROUTER talk to a REP, so this is a DEALER too and libzmq round-robins among
 *   the peers; `peers` counts completed handshakes.
 *
 * Sends never block: `immediate` keeps messages off half-open connections and
 * `sendTimeout: 0` makes a send with no ready peer fail at once (EAGAIN), which the pool
 * treats as "not sent" and dispatches again elsewhere. It also makes every send complete
 * inside the call, so none waits for another (see `send`).
 */
import { Dealer } from "zeromq";
import { ZAP_DOMAIN } from "./zap-handler.js";

export interface LinkOptions {
  lingerMs: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  reconnectIntervalMs: number;
  reconnectMaxIntervalMs: number;
  /** Largest message accepted from a worker, bytes; larger ones drop the connection. */
  maxMessageBytes: number;
  /** The gateway's CURVE key pair: "in" links are CURVE servers, "out" links clients. */
  curve?: { publicKey: string; secretKey: string } | undefined;
}

/** Per-link settings. */
export interface LinkExtras {
  /** The worker's CURVE public key (Z85), for a connect-out link when CURVE is on. */
  serverKey?: string | undefined;
}

export interface LinkEvents {
  /** Frames as received: [correlation id, empty, ...payload]. */
  onMessage(link: WorkerLink, frames: Buffer[]): void;
  /** `peers` changed (a worker connected, or one was lost). */
  onPeersChanged(link: WorkerLink, peers: number, previous: number): void;
  /** A send failed; the message did not leave the gateway. */
  onSendFailed(link: WorkerLink, frames: Buffer[], error: unknown): void;
}

export class WorkerLink {
  readonly kind: "in" | "out";
  /** The endpoint as configured; for "in" links, the bound endpoint after start(). */
  endpoint: string;
  peers = 0;
  private readonly socket: Dealer;
  private readonly events: LinkEvents;
  private closed = false;
  private handshakeFailures = 0;
  /**
   * Messages whose send Promise has not yet settled, oldest first. zeromq.js settles sends
   * in the order they were made (at most one is ever pending), so the shared handlers below
   * take their message from the front: no closure per send.
   */
  private readonly unconfirmed: Buffer[][] = [];
  private readonly confirmed = (): void => {
    this.unconfirmed.shift();
  };
  private readonly refused = (error: unknown): void => {
    const frames = this.unconfirmed.shift();
    if (frames) this.events.onSendFailed(this, frames, error);
  };

  constructor(kind: "in" | "out", endpoint: string, options: LinkOptions, events: LinkEvents, extras: LinkExtras = {}) {
    this.kind = kind;
    this.endpoint = endpoint;
    this.events = events;
    this.socket = new Dealer({
      linger: options.lingerMs,
      immediate: true,
      sendTimeout: 0,
      sendHighWaterMark: 10_000,
      receiveHighWaterMark: 10_000,
      heartbeatInterval: options.heartbeatIntervalMs,
      heartbeatTimeout: options.heartbeatTimeoutMs,
      heartbeatTimeToLive: options.heartbeatTimeoutMs,
      reconnectInterval: options.reconnectIntervalMs,
      reconnectMaxInterval: options.reconnectMaxIntervalMs,
      handshakeInterval: 5_000,
      maxMessageSize: options.maxMessageBytes,
    });
    if (options.curve) {
      if (kind === "in") {
        // CURVE server; the ZAP handler (zap-handler.ts) decides which worker keys get in.
        this.socket.curveServer = true;
        this.socket.curveSecretKey = options.curve.secretKey;
        this.socket.zapDomain = ZAP_DOMAIN;
      } else {
        if (!extras.serverKey) throw new Error("a connect-out worker needs its serverKey when CURVE is on");
        this.socket.curveServerKey = extras.serverKey;
        this.socket.curvePublicKey = options.curve.publicKey;
        this.socket.curveSecretKey = options.curve.secretKey;
      }
    }
  }

  /** Binds or connects and starts the loops. Rejects when a bind fails (address in use). */
  async start(): Promise<void> {
    void this.watch();
    if (this.kind === "in") {
      await this.socket.bind(this.endpoint);
      this.endpoint = this.socket.lastEndpoint ?? this.endpoint;
    } else {
      this.socket.connect(this.endpoint);
    }
    void this.receive();
  }

  /**
   * Hands frames to libzmq. With `sendTimeout: 0` zeromq.js completes every send inside
   * the call (sent, or failed with EAGAIN) and never leaves one pending, so sends need no
   * queue and cannot meet EBUSY. Failures reach `onSendFailed` a microtask later.
   */
  send(frames: Buffer[]): void {
    if (this.closed) {
      this.events.onSendFailed(this, frames, new Error("socket closed"));
      return;
    }
    let sent: Promise<void>;
    try {
      sent = this.socket.send(frames);
    } catch (error) {
      this.events.onSendFailed(this, frames, error);
      return;
    }
    this.unconfirmed.push(frames);
    sent.then(this.confirmed, this.refused);
  }

  private async receive(): Promise<void> {
    try {
      // receive() itself: the async iterator wraps each message in one more Promise.
      while (!this.socket.closed) this.events.onMessage(this, await this.socket.receive());
    } catch (error) {
      if (!this.closed) throw error;
    }
  }

  private setPeers(peers: number): void {
    const previous = this.peers;
    this.peers = Math.max(0, peers);
    if (this.peers !== previous) this.events.onPeersChanged(this, this.peers, previous);
  }

  private async watch(): Promise<void> {
    try {
      for await (const event of this.socket.events) {
        switch (event.type) {
          case "handshake":
            this.setPeers(this.kind === "out" ? 1 : this.peers + 1);
            break;
          case "handshake:error:protocol":
          case "handshake:error:auth":
          case "handshake:error:other":
            this.handshakeFailures++;
            break;
          case "disconnect":
            if (this.handshakeFailures > 0) {
              this.handshakeFailures--;
            } else if (this.kind === "in") {
              this.setPeers(this.peers - 1);
            } else {
              this.setPeers(0);
              // libzmq reconnects after a lost connection but not after a protocol error (a
              // message past maxMessageSize): that session ends for good and the worker would
              // stay disconnected. Connecting anew covers both; the backoff still applies.
              if (this.closed) break;
              try {
                this.socket.disconnect(this.endpoint);
              } catch {
                // the session is gone already
              }
              this.socket.connect(this.endpoint);
            }
            break;
          default:
            break;
        }
      }
    } catch (error) {
      if (!this.closed) throw error;
    }
  }

  /** Closes the socket; queued sends are reported failed. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
    this.setPeers(0);
  }
}
