/**
 * Several pool observers as one (tracing plus whatever the embedder passes): every
 * observer sees every attempt; trace fields come from the first handle that has them.
 */
import type { AttemptHandle, PoolObserver } from "../services/worker-pool.js";

export function combineObservers(...observers: (PoolObserver | undefined)[]): PoolObserver | undefined {
  const present = observers.filter((observer): observer is PoolObserver => observer !== undefined);
  if (present.length <= 1) return present[0];
  return {
    attemptStarted(info) {
      const handles: AttemptHandle[] = [];
      for (const observer of present) {
        const handle = observer.attemptStarted(info);
        if (handle) handles.push(handle);
      }
      if (handles.length === 0) return undefined;
      if (handles.length === 1) return handles[0];
      const traced = handles.find((handle) => handle.traceparent !== undefined);
      return {
        traceparent: traced?.traceparent,
        tracestate: traced?.tracestate,
        end(outcome) {
          for (const handle of handles) handle.end(outcome);
        },
      };
    },
  };
}
