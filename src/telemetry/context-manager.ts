/**
 * The gateway's OpenTelemetry context manager: the active context lives for the
 * synchronous extent of `context.with()` and no longer, as on a stack.
 *
 * Why not the SDK's default (AsyncLocalStorageContextManager): on Node 20 an
 * AsyncLocalStorage that has run once turns on promise hooks for every Promise in the
 * process, and the gateway's hot path makes several per request. Measured side by side
 * with tracing on (`npm run bench -- --ab OLD --tracing`, 64 connections, one core): the
 * AsyncLocalStorage build spent 1.10x this one's CPU per GET and per POST (medians of 6
 * pairs each, every pair above 1.04; bench/results/ab-s22-sync-context.json).
 *
 * What that asks of the code: a context does not follow an `await`, a timer or a socket
 * event. The gateway never relies on that: the request lifecycle hands the SERVER span's
 * context to the service call explicitly (`traceContext` on the hono context), the pool
 * carries it on each job for its CLIENT spans and log lines, and the front door and the
 * exporter only read the active context synchronously inside `context.with()`. No user
 * code runs in the gateway process. (The meta-worker library runs in the user's worker
 * processes under whatever SDK they register; this manager is not used there.)
 */
import { ROOT_CONTEXT, type Context, type ContextManager } from "@opentelemetry/api";

export class SynchronousContextManager implements ContextManager {
  private current: Context = ROOT_CONTEXT;

  active(): Context {
    return this.current;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const previous = this.current;
    this.current = context;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.current = previous;
    }
  }

  /** Functions run in `context` whenever they are called; anything else is returned as is. */
  bind<T>(context: Context, target: T): T {
    if (typeof target !== "function") return target;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    const run = (receiver: unknown, args: unknown[]): unknown => this.with(context, fn, receiver, ...args);
    return function bound(this: unknown, ...args: unknown[]): unknown {
      return run(this, args);
    } as unknown as T;
  }

  enable(): this {
    return this;
  }

  /** Back to the root context (the API calls this when the manager is replaced). */
  disable(): this {
    this.current = ROOT_CONTEXT;
    return this;
  }
}
