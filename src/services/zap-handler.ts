/**
 * A ZAP handler (ZeroMQ RFC 27) for CURVE: admits connect-in workers whose public key is
 * on the allow-list and refuses the rest at the handshake, so a refused worker never gets
 * a request. libzmq asks it over `inproc://zeromq.zap.01` for every CURVE handshake on a
 * socket with a ZAP domain; there is one per process.
 */
import { Router } from "zeromq";
import { z85Encode } from "../protocol/z85.js";
import type { Logger } from "../telemetry/logger.js";

export const ZAP_DOMAIN = "zmq-gateway";
const ZAP_ENDPOINT = "inproc://zeromq.zap.01";

export class ZapHandler {
  private readonly socket = new Router({ linger: 0 });
  private allowed: Set<string>;
  private readonly logger: Logger;
  private closed = false;
  accepted = 0;
  refused = 0;

  constructor(allowedKeys: Iterable<string>, logger: Logger) {
    this.allowed = new Set(allowedKeys);
    this.logger = logger;
  }

  async start(): Promise<void> {
    await this.socket.bind(ZAP_ENDPOINT);
    void this.serve();
  }

  /** Replaces the allow-list; returns the keys that were removed. */
  setAllowed(keys: Iterable<string>): string[] {
    const next = new Set(keys);
    const removed = [...this.allowed].filter((key) => !next.has(key));
    this.allowed = next;
    return removed;
  }

  private async serve(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        // [routing id, empty, version, request id, domain, address, identity, mechanism, ...credentials]
        const [routingId, , version, requestId, , address, , mechanism, credential] = frames;
        if (!routingId || !requestId) continue;
        let status = "400";
        let text = "refused";
        let user = "";
        if (version?.toString() !== "1.0") {
          text = "unsupported ZAP version";
        } else if (mechanism?.toString() !== "CURVE" || credential?.length !== 32) {
          text = "CURVE required";
        } else {
          const key = z85Encode(credential);
          if (this.allowed.has(key)) {
            status = "200";
            text = "OK";
            user = key;
          } else {
            text = "key not allowed";
          }
          this.logger[status === "200" ? "debug" : "warn"](
            { event: status === "200" ? "zap-accept" : "zap-refuse", key, address: address?.toString() },
            status === "200" ? "worker key accepted" : "worker key refused",
          );
        }
        if (status === "200") this.accepted++;
        else this.refused++;
        await this.socket.send([routingId, Buffer.alloc(0), "1.0", requestId, status, text, user, Buffer.alloc(0)]);
      }
    } catch (error) {
      if (!this.closed) this.logger.error({ err: error }, "ZAP handler failed");
    }
  }

  close(): void {
    this.closed = true;
    this.socket.close();
  }
}
