/**
 * The smallest zmq-gateway worker: a plain ZeroMQ REP socket that echoes every request.
 *
 *   WORKER_BIND=tcp://127.0.0.1:5555 node dist/examples/echo-worker.js     (gateway connects out)
 *   WORKER_CONNECT=tcp://127.0.0.1:5560 node dist/examples/echo-worker.js  (worker connects in)
 *
 * Prints `ready <endpoint>` once the socket is bound or connecting.
 */
import { Reply } from "zeromq";

const socket = new Reply({ linger: 0 });
const bind = process.env.WORKER_BIND;
if (bind) await socket.bind(bind);
else socket.connect(process.env.WORKER_CONNECT ?? "tcp://127.0.0.1:5560");
console.log(`ready ${socket.lastEndpoint ?? process.env.WORKER_CONNECT}`);
process.once("SIGTERM", () => socket.close());

for await (const frames of socket) {
  await socket.send(frames); // plain mode: one frame in, the same frame out
}
