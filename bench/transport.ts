/**
 * How each peer's front reaches the processes behind it (`--transport`). `tcp`, the
 * default, is loopback TCP, as for workers on other hosts. `unix` puts every peer's back
 * leg on Unix-domain sockets, as for workers on the front's own host: ZeroMQ `ipc://` for
 * the gateway's workers, the naive floor's and Mongrel2's handlers, and `unix:` upstreams
 * for nginx. Every peer switches alike, so the ratios stay like for like; the HTTP leg
 * from wrk stays on TCP.
 */
import type { Started } from "./processes.js";
import { waitForLine } from "./processes.js";
export const TRANSPORTS = ["tcp", "unix"] as const;
export type BackendTransport = (typeof TRANSPORTS)[number];

/** sockaddr_un's sun_path is 108 bytes on Linux, the terminating NUL included. */
const MAX_SOCKET_PATH_BYTES = 107;

/**
 * A Unix socket path in `dir`. Throws when the path would not fit sun_path: libzmq and
 * Node would otherwise fail with a less precise error, or truncate.
 */
export function socketPath(dir: string, name: string): string {
  const path = `${dir}/${name}.sock`;
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(`socket path ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes; set TMPDIR to a shorter folder`);
  }
  return path;
}

/**
 * Where a bench process binds a ZeroMQ socket: loopback TCP on a port the OS picks, or an
 * `ipc://` path in `dir` named `name`.
 */
export function zmqBindEndpoint(transport: BackendTransport, dir: string, name: string): string {
  return transport === "tcp" ? "tcp://127.0.0.1:0" : `ipc://${socketPath(dir, name)}`;
}

/** Matches a bench worker's `ready <endpoint>` line for either transport. */
export const READY_ENDPOINT = /^ready (tcp|ipc):\/\//;

/** The endpoint a bench worker bound, from its `ready <endpoint>` line. */
export async function boundEndpoint(worker: Started): Promise<string> {
  return (await waitForLine(worker, READY_ENDPOINT)).slice("ready ".length).trim();
}
