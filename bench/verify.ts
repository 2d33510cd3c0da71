/**
 * Before any load, each peer must answer both requests with the exact bytes: GET gives
 * the fixed 100-byte JSON and POST of that JSON gives it back. This is also the
 * readiness check, since a front process can listen before its workers are connected.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { FIXED_JSON } from "./payload.js";

async function fetchText(url: string, init: RequestInit): Promise<string> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2_000) });
  const text = await response.text();
  if (response.status !== 200)
    throw new Error(`${init.method ?? "GET"} ${url}: ${response.status} ${text.slice(0, 200)}`);
  return text;
}

async function checkOnce(url: string): Promise<void> {
  const got = await fetchText(url, { method: "GET" });
  if (got !== FIXED_JSON)
    throw new Error(`GET ${url} answered ${JSON.stringify(got.slice(0, 200))}`);
  const echoed = await fetchText(url, {
    method: "POST",
    body: FIXED_JSON,
    headers: { "content-type": "application/json" },
  });
  if (echoed !== FIXED_JSON)
    throw new Error(`POST ${url} answered ${JSON.stringify(echoed.slice(0, 200))}`);
}

/** Retries the GET + POST check until it passes or `timeoutMs` runs out. */
export async function waitUntilServing(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await checkOnce(url);
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`${url} did not serve the bench payload within ${timeoutMs} ms`, {
          cause: error,
        });
      }
      await sleep(100);
    }
  }
}
