/**
 * The baseline: hono on @hono/node-server with no upstream, serving the same bytes as
 * every other peer (GET: the fixed 100-byte JSON; POST: the body echoed). It is the
 * gateway's HTTP stack with the ZeroMQ leg cut out, so gateway/baseline is the price of
 * that leg plus the gateway's own work.
 *
 *   node dist/bench/servers/hono-echo.js      prints `listening PORT` (port 0: OS picks)
 */
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { ECHO_PATH, FIXED_JSON } from "../payload.js";

const headers = { "content-type": "application/json" };
const app = new Hono();
app.get(ECHO_PATH, (c) => c.body(FIXED_JSON, 200, headers));
// A Uint8Array, not the ArrayBuffer: @hono/node-server writes it on its fast path (the strongest baseline).
app.post(ECHO_PATH, async (c) => c.body(new Uint8Array(await c.req.arrayBuffer()), 200, headers));

const server = serve(
  { fetch: app.fetch, hostname: "127.0.0.1", port: Number(process.env.PORT ?? 0) },
  (info) => {
    console.log(`listening ${info.port}`);
  },
);
process.once("SIGTERM", () => server.close());
