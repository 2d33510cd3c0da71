/**
 * The request id of the HTTP request being handled, carried through every await and
 * timer started while it is handled (AsyncLocalStorage), so log lines can name it
 * without the id being passed down by hand.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const storage = new AsyncLocalStorage<string>();

/** Runs `fn` (and everything it starts) as the handling of request `requestId`. */
export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return storage.run(requestId, fn);
}

/** The id of the request being handled here, undefined outside a request. */
export function currentRequestId(): string | undefined {
  return storage.getStore();
}
