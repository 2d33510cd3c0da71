/**
 * The gateway's bench worker: examples/echo-worker.ts, except that an empty request (a
 * GET through the gateway) gets the fixed 100-byte JSON, so the gateway serves the same
 * bytes as the other peers. Any other request is echoed frame for frame.
 *
 *   WORKER_BIND=tcp://127.0.0.1:0 node dist/bench/servers/zmq-echo-worker.js
 *
 * Prints `ready <endpoint>` once bound.
 */
import { Reply } from "zeromq";
import { FIXED_JSON_BYTES } from "../payload.js";

const socket = new Reply({ linger: 0 });
await socket.bind(process.env.WORKER_BIND ?? "tcp://127.0.0.1:0");
console.log(`ready ${socket.lastEndpoint}`);
process.once("SIGTERM", () => socket.close());

for await (const frames of socket) {
  const only = frames.length === 1 ? frames[0] : undefined;
  await socket.send(only !== undefined && only.length === 0 ? FIXED_JSON_BYTES : frames);
}
