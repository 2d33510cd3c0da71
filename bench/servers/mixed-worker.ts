/**
 * The mixed-latency bench worker: a plain REP worker that echoes the request body after
 * SLOW_MS (200 ms) when the body starts with `slow`, and after FAST_MS (1 ms) otherwise.
 * The load generator decides which requests are slow (1% of them), so it knows, for each
 * latency it records, whether the worker was slow on purpose.
 *
 *   WORKER_BIND=tcp://127.0.0.1:0 node dist/bench/servers/mixed-worker.js      (connect-out)
 *   WORKER_CONNECT=tcp://127.0.0.1:P node dist/bench/servers/mixed-worker.js    (connect-in)
 *
 * Prints `ready <endpoint>` once bound or connecting. A REP socket serves one request at
 * a time, so a slow request holds this worker for the whole SLOW_MS.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Reply } from "zeromq";
import { FAST_MS, SLOW_MARK, SLOW_MS } from "../mixed-plan.js";

const socket = new Reply({ linger: 0 });
const bind = process.env.WORKER_BIND;
if (bind) await socket.bind(bind);
else socket.connect(process.env.WORKER_CONNECT ?? "");
console.log(`ready ${socket.lastEndpoint ?? process.env.WORKER_CONNECT}`);
process.once("SIGTERM", () => socket.close());

for await (const [body] of socket) {
  const slow = body !== undefined && body.subarray(0, SLOW_MARK.length).equals(SLOW_MARK);
  await sleep(slow ? SLOW_MS : FAST_MS);
  await socket.send(body ?? Buffer.alloc(0));
}
