/**
 * The hono baseline peer: one process, no upstream (bench/servers/hono-echo.ts).
 */
import type { Started } from "../processes.js";
import { waitForLine } from "../processes.js";
import { ECHO_PATH } from "../payload.js";
import { waitUntilServing } from "../verify.js";
import type { Peer } from "./peer.js";
import { startNodeScript, startOrCleanUp, stopInOrder } from "./peer.js";

export async function startBaseline(workDir: string): Promise<Peer> {
  const started: Started[] = [];
  return startOrCleanUp(started, async () => {
    const front = startNodeScript("hono-echo", "bench/servers/hono-echo.js", workDir);
    started.push(front);
    const port = Number((await waitForLine(front, /^listening \d+$/)).split(" ")[1]);
    const url = `http://127.0.0.1:${port}${ECHO_PATH}`;
    await waitUntilServing(url);
    return {
      id: "baseline",
      label: "hono baseline",
      url,
      processes: [{ pid: front.pid, role: "front", name: "hono" }],
      stop: () => stopInOrder(started),
    };
  });
}
