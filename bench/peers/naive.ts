/**
 * The floor row: bench/servers/naive-gateway.ts (hono and one zeromq DEALER connected to
 * both echo workers, libzmq's blind round-robin, nothing else) with its I/O thread under
 * SCHED_BATCH like the gateway's. It serves the same bytes as every peer, so
 * gateway/naive is the price of what the gateway does besides moving the message
 * (dispatch, window and queue, deadlines, request ids, access log, metrics).
 */
import { ECHO_PATH } from "../payload.js";
import type { Started } from "../processes.js";
import { waitForLine } from "../processes.js";
import { waitUntilServing } from "../verify.js";
import type { BackendTransport } from "../transport.js";
import { startEchoWorkers } from "./gateway.js";
import type { Peer } from "./peer.js";
import { processesOf, startNodeScript, startOrCleanUp, stopInOrder } from "./peer.js";

export async function startNaiveFloor(workDir: string, transport: BackendTransport = "tcp"): Promise<Peer> {
  const started: Started[] = [];
  return startOrCleanUp(started, async () => {
    const { workers, endpoints } = await startEchoWorkers(workDir, started, transport);
    const front = startNodeScript("naive-gateway", "bench/servers/naive-gateway.js", workDir, {
      WORKERS: endpoints.join(","),
      ZMQ_SCHED_BATCH: "1",
    });
    // Front first in the stop order, as for the gateway.
    started.unshift(front);
    const port = Number((await waitForLine(front, /^listening \d+$/)).split(" ")[1]);
    const url = `http://127.0.0.1:${port}${ECHO_PATH}`;
    await waitUntilServing(url);
    return {
      id: "naive",
      label: "naive floor (hono + 1 DEALER)",
      url,
      processes: processesOf(front, "naive-gateway", workers),
      stop: () => stopInOrder(started),
    };
  });
}
