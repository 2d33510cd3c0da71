/**
 * Reads the gateway's pending work from its admin API, `GET /admin/services`
 * (`{"services":[{"name", "inFlight", "queued", "workers":[...]}]}`). After a load has
 * stopped, both counts must come back to 0: anything else is a leak.
 */
import { setTimeout as sleep } from "node:timers/promises";

export interface PendingState {
  inFlight: number;
  queued: number;
  /** The raw answer, kept in the results for a closer look. */
  services: unknown;
}

interface ServicesBody {
  services?: { name?: string; inFlight?: number; queued?: number }[];
}

/** One read of the admin API; throws on a non-200 or an unexpected shape. */
export async function readPending(url: string): Promise<PendingState> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (response.status !== 200)
    throw new Error(`GET ${url}: ${response.status} ${(await response.text()).slice(0, 200)}`);
  const body = (await response.json()) as ServicesBody;
  if (!Array.isArray(body.services)) throw new Error(`GET ${url}: no services array`);
  let inFlight = 0;
  let queued = 0;
  for (const service of body.services) {
    inFlight += service.inFlight ?? 0;
    queued += service.queued ?? 0;
  }
  return { inFlight, queued, services: body.services };
}

/**
 * Reads until nothing is pending or `settleMs` has passed (replies to requests that wrk
 * abandoned at its deadline may still be on the way), and returns the last read. A
 * failed read is returned as `{ error }` rather than thrown: the admin API is a check,
 * not the measurement.
 */
export async function readPendingSettled(
  url: string,
  settleMs = 3_000,
): Promise<PendingState | { error: string }> {
  const deadline = Date.now() + settleMs;
  try {
    for (;;) {
      const state = await readPending(url);
      if ((state.inFlight === 0 && state.queued === 0) || Date.now() > deadline) return state;
      await sleep(100);
    }
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

interface WorkersBody {
  services?: { name?: string; workers?: { peers?: number }[] }[];
}

/**
 * Polls `GET /admin/services` until `service` has `peers` connected worker peers (the
 * sum of `peers` over its workers: 1 per connect-out worker, the handshakes of a
 * connect-in endpoint), so a load starts with every worker in the pool. Throws after
 * `timeoutMs`.
 */
export async function waitForPeers(
  url: string,
  service: string,
  peers: number,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const body = (await response.json()) as WorkersBody;
      const workers = body.services?.find((s) => s.name === service)?.workers ?? [];
      seen = workers.reduce((sum, worker) => sum + (worker.peers ?? 0), 0);
      if (seen >= peers) return;
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  throw new Error(`${service}: ${seen} of ${peers} worker peers connected after ${timeoutMs} ms`);
}
