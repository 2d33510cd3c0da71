/**
 * Starts a hono app on a node:http server and stops it gracefully. Port 0 lets the OS
 * choose; the bound port is returned.
 */
import { STATUS_CODES, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { GatewayError, errorCodes, type ErrorCode } from "../errors.js";
import { PROBLEM_CONTENT_TYPE, problemFor, problemStatus } from "./problem.js";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";

export interface Listener {
  server: Server;
  port: number;
  /** Stops accepting, lets open responses finish for up to `graceMs`, then cuts what is left. */
  close(graceMs: number): Promise<void>;
}

/** Connections whose parse error waits for an earlier response to finish. */
const deferred = new WeakSet<Duplex>();

/**
 * Requests Node's parser refuses (smuggling shapes such as CL+TE, duplicate
 * Content-Length, obs-fold or bare LF; oversized heads; slow heads) never reach the app:
 * they get a problem+json answer and the connection is closed.
 */
function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // Node reports the error again for every later chunk: one deferred answer is enough.
  if (deferred.has(socket)) return;
  const pending = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (pending && !pending.writableFinished && pending.req.complete) {
    // The bad bytes follow a whole request whose response is still to come (pipelining, or a
    // GET body sent without framing): that response goes first, then this answer. Written
    // now, the problem would be taken as the answer to the earlier request.
    deferred.add(socket);
    pending.once("finish", () => {
      deferred.delete(socket);
      answerClientError(error, socket);
    });
    return;
  }
  // As Node's own default: answer unless a response has already started on this socket.
  if (!socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  const code: ErrorCode =
    error.code === "HPE_HEADER_OVERFLOW" ? "HEADERS_TOO_LARGE" : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "REQUEST_TIMEOUT" : "BAD_REQUEST";
  const detail = code === "BAD_REQUEST" ? `the request could not be parsed (${error.code ?? "parse error"})` : errorCodes[code];
  const body = JSON.stringify(problemFor(new GatewayError(code, detail)));
  socket.end(
    `HTTP/1.1 ${problemStatus[code]} ${STATUS_CODES[problemStatus[code]] ?? ""}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Anything with a WHATWG fetch handler, such as a hono app. */
export interface FetchApp {
  fetch: (request: Request, ...rest: never[]) => Response | Promise<Response>;
}

/** Node server limits; all optional (Node's defaults otherwise). */
export interface ListenLimits {
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  maxHeaderBytes?: number;
  maxConnections?: number;
}

export async function listen(app: FetchApp, host: string, port: number, limits: ListenLimits = {}): Promise<Listener> {
  const server = createAdaptorServer({
    fetch: app.fetch as never,
    serverOptions: {
      ...(limits.maxHeaderBytes !== undefined && { maxHeaderSize: limits.maxHeaderBytes }),
      ...(limits.requestTimeoutMs !== undefined && { requestTimeout: limits.requestTimeoutMs }),
      ...(limits.headersTimeoutMs !== undefined && { headersTimeout: limits.headersTimeoutMs }),
      ...(limits.keepAliveTimeoutMs !== undefined && { keepAliveTimeout: limits.keepAliveTimeoutMs }),
    },
  }) as Server;
  if (limits.maxConnections !== undefined) server.maxConnections = limits.maxConnections;
  server.on("clientError", answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    server,
    port: bound,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
