/**
 * Starts a hono app on a node:http server and stops it gracefully. Port 0 lets the OS
 * choose; the bound port is returned.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdaptorServer } from "@hono/node-server";

export interface Listener {
  server: Server;
  port: number;
  /** Stops accepting, lets open responses finish for up to `graceMs`, then cuts what is left. */
  close(graceMs: number): Promise<void>;
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
