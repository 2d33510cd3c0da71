/**
 * The invariants every fault test checks once the load has stopped: nothing pending or
 * queued, and every attempt sent ended exactly one way.
 */
import assert from "node:assert/strict";
import type { AdminServices } from "./gateway.js";
import { waitUntil } from "./wait.js";

export async function assertAtRest(read: () => Promise<AdminServices>, service: string): Promise<AdminServices["services"][number]> {
  const find = async () => (await read()).services.find((s) => s.name === service)!;
  await waitUntil(async () => {
    const s = await find();
    return s.inFlight === 0 && s.queued === 0;
  }, `${service} to have nothing queued or in flight`);
  const s = await find();
  const c = s.counters;
  const ended = c.replied! + c.lost! + c.timedOutInFlight! + c.cancelledInFlight! + c.drainedInFlight!;
  assert.equal(c.sent, ended, `sent (${c.sent}) = replied + lost + timed out + cancelled + drained (${ended}): ${JSON.stringify(c)}`);
  return s;
}
