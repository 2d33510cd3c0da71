/**
 * The seed's broker, kept: a ROUTER bound for native ZeroMQ REQ (or DEALER) clients.
 * A client's body frames go to a worker of the service unchanged, through the same pool
 * (queue, deadlines, counters) as HTTP calls, and the worker's reply frames go back to
 * that client unchanged. Replies cannot cross: each call carries its own client envelope.
 *
 *   REQ client -> [envelope..., empty, body...] -> ROUTER -> pool -> worker REP
 *
 * When the gateway cannot get a reply (no worker, timeout, draining), the client gets a
 * single frame holding an RFC 9457 problem JSON document, so a REQ socket is never left
 * waiting forever.
 */
import { context } from "@opentelemetry/api";
import { Router } from "zeromq";
import { GatewayError, isGatewayError } from "../errors.js";
import type { Logger } from "../telemetry/logger.js";
import { startFrontDoorSpan } from "../telemetry/tracing.js";
import type { Service } from "../services/service.js";
import { SendQueue } from "../services/send-queue.js";
import { problemFor } from "../http/problem.js";

export interface FrontendCounters {
  received: number;
  replied: number;
  failed: number;
  malformed: number;
  sendFailures: number;
}

export class RouterFrontend {
  endpoint: string;
  readonly counters: FrontendCounters = { received: 0, replied: 0, failed: 0, malformed: 0, sendFailures: 0 };
  private readonly socket: Router;
  private readonly sends: SendQueue;
  private readonly service: Service;
  private readonly logger: Logger;
  private closed = false;

  constructor(service: Service, endpoint: string, logger: Logger, lingerMs: number) {
    this.service = service;
    this.endpoint = endpoint;
    this.logger = logger;
    this.socket = new Router({
      linger: lingerMs,
      sendTimeout: 0,
      maxMessageSize: service.config.maxBodyBytes + 64 * 1024,
      handshakeInterval: 5_000,
    });
    this.sends = new SendQueue(this.socket, () => this.counters.sendFailures++);
  }

  async start(): Promise<void> {
    await this.socket.bind(this.endpoint);
    this.endpoint = this.socket.lastEndpoint ?? this.endpoint;
    void this.receive();
  }

  private async receive(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        const delimiter = frames.findIndex((frame, index) => index > 0 && frame.length === 0);
        // No envelope delimiter, or nothing after it: not a REQ-shaped request; a REP worker could not take it.
        if (delimiter < 0 || delimiter === frames.length - 1) {
          this.counters.malformed++;
          continue;
        }
        this.counters.received++;
        void this.handle(frames.slice(0, delimiter + 1), frames.slice(delimiter + 1));
      }
    } catch (error) {
      if (!this.closed) this.logger.error({ err: error, service: this.service.name }, "front door receive loop failed");
    }
  }

  private async handle(envelope: Buffer[], body: Buffer[]): Promise<void> {
    const started = performance.now();
    const span = startFrontDoorSpan(this.service.name, this.endpoint);
    let reply: Buffer[];
    let status = 200;
    let code: string | undefined;
    try {
      const size = body.reduce((sum, frame) => sum + frame.length, 0);
      if (size > this.service.config.maxBodyBytes) {
        throw new GatewayError("BODY_TOO_LARGE", `the request (${size} bytes) exceeds maxBodyBytes (${this.service.config.maxBodyBytes})`);
      }
      reply = await this.service.forward(body, span.context);
      this.counters.replied++;
    } catch (error) {
      const gatewayError = isGatewayError(error) ? error : new GatewayError("INTERNAL", undefined, { cause: error });
      const problem = problemFor(gatewayError, { instance: `zmq:${this.service.name}` });
      status = problem.status;
      code = problem.code;
      reply = [Buffer.from(JSON.stringify(problem))];
      this.counters.failed++;
    }
    context.with(span.context, () =>
      this.logger.info(
        { event: "access", frontDoor: "zmq", service: this.service.name, status, durationMs: Math.round((performance.now() - started) * 1000) / 1000 },
        "request",
      ),
    );
    span.end(status, code);
    if (!this.closed) this.sends.push([...envelope, ...reply]);
  }

  close(): void {
    this.closed = true;
    this.sends.close();
    this.socket.close();
  }
}
