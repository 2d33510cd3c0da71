/**
 * The naive gateway of the mixed-latency scenario: hono in front of ONE ZeroMQ DEALER
 * connected to every worker, the pattern of the ZeroMQ guide's asynchronous client.
 * Each request gets a correlation id, goes out as [id, empty, body] and is matched to
 * its reply by that id. libzmq round-robins the requests over the connected workers
 * blindly: a request can wait behind a slow one while another worker is idle. That is
 * the behaviour the gateway's worker-aware dispatch replaces, and what this measures.
 *
 *   WORKERS=tcp://127.0.0.1:P1,tcp://127.0.0.1:P2 node dist/bench/servers/naive-gateway.js
 *
 * Serves `POST /v1/mixed` (body echoed by a worker) for the mixed scenario, and
 * `GET`/`POST /v1/echo` as the main table's floor row: what hono and zeromq.js cost with
 * nothing of the gateway's own work (no window, queue, deadlines, log or metrics).
 * `ZMQ_SCHED_BATCH=1` puts libzmq's I/O thread under SCHED_BATCH, as the gateway's
 * default does. Prints `listening PORT` once every worker's handshake is done, so the
 * round-robin covers all of them from the start.
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { context, Dealer } from "zeromq";
import { MIXED_PATH } from "../mixed-plan.js";
import { ECHO_PATH } from "../payload.js";

/** sched(7): SCHED_BATCH on Linux; set before the first socket starts libzmq's threads. */
if (process.env.ZMQ_SCHED_BATCH === "1") context.threadSchedulingPolicy = 3;

/** A request with no reply after this long is answered 504. */
const TIMEOUT_MS = 10_000;
const EMPTY = Buffer.alloc(0);

const endpoints = (process.env.WORKERS ?? "").split(",").filter(Boolean);
const dealer = new Dealer({ linger: 0 });
const pending = new Map<number, (body: Buffer) => void>();
let counter = 0;

// zeromq.js allows one pending send per socket: sends go out one at a time.
let sending: Promise<void> = Promise.resolve();
function send(frames: Buffer[]): Promise<void> {
  const sent = sending.then(() => dealer.send(frames));
  sending = sent.catch(() => undefined);
  return sent;
}

function call(body: Buffer): Promise<Buffer> {
  const key = (counter = (counter + 1) >>> 0);
  const id = Buffer.allocUnsafe(4);
  id.writeUInt32BE(key);
  const reply = new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(key);
      reject(new Error("no reply in time"));
    }, TIMEOUT_MS);
    pending.set(key, (answer) => {
      clearTimeout(timer);
      pending.delete(key);
      resolve(answer);
    });
  });
  return Promise.all([reply, send([id, EMPTY, body])]).then(([answer]) => answer);
}

async function receiveReplies(): Promise<void> {
  for await (const [id, , body] of dealer) {
    if (id?.length !== 4) continue;
    pending.get(id.readUInt32BE(0))?.(body ?? EMPTY);
  }
}

const app = new Hono();
app.post(MIXED_PATH, async (c) => {
  const answer = await call(Buffer.from(await c.req.arrayBuffer()));
  return c.body(new Uint8Array(answer), 200, { "content-type": "text/plain" });
});
const echoHeaders = { "content-type": "application/json" };
app.get(ECHO_PATH, async (c) => c.body(new Uint8Array(await call(EMPTY)), 200, echoHeaders));
app.post(ECHO_PATH, async (c) => c.body(new Uint8Array(await call(Buffer.from(await c.req.arrayBuffer()))), 200, echoHeaders));
app.onError((error, c) => c.text(error.message, 504));

let handshakes = 0;
const connected = new Promise<void>((resolve) => {
  dealer.events.on("handshake", () => {
    if (++handshakes === endpoints.length) resolve();
  });
});
for (const endpoint of endpoints) dealer.connect(endpoint);
void receiveReplies().catch(() => undefined); // ends when the socket closes
await connected;

const server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => {
  console.log(`listening ${info.port}`);
});
process.once("SIGTERM", () => {
  server.close();
  dealer.close();
});
