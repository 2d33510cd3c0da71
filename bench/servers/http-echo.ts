/**
 * A bare node:http echo server, the upstream behind nginx: an empty request (GET)
 * gets the fixed 100-byte JSON, any other body is echoed.
 *
 *   node dist/bench/servers/http-echo.js      prints `listening PORT` (port 0: OS picks)
 *   SOCKET=/path node dist/bench/servers/http-echo.js    prints `listening unix:/path`
 *
 * On a Unix socket it listens writable by all: nginx's workers run as nobody.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { FIXED_JSON_BYTES } from "../payload.js";

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    const received = Buffer.concat(chunks);
    const body = received.length === 0 ? FIXED_JSON_BYTES : received;
    response.writeHead(200, { "content-type": "application/json", "content-length": body.length });
    response.end(body);
  });
});
server.keepAliveTimeout = 60_000; // nginx keeps its upstream connections open
const socket = process.env.SOCKET;
if (socket) {
  server.listen({ path: socket, readableAll: true, writableAll: true }, () => console.log(`listening unix:${socket}`));
} else {
  server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
    console.log(`listening ${(server.address() as AddressInfo).port}`);
  });
}
process.once("SIGTERM", () => server.close());
