/**
 * Settings of libzmq's background I/O threads, on zeromq.js's global context. They take
 * effect only if no socket has been created in this process yet (libzmq starts the
 * threads with the first socket); the gateway applies them before it opens any.
 *
 * Why SCHED_BATCH: every send wakes the I/O thread. Under the default policy the woken
 * thread preempts the gateway's JavaScript thread at once when they share a core, moves
 * one message, and sleeps again: several context switches per request, and no batching
 * anywhere down the line. SCHED_BATCH keeps the thread's share of the CPU but drops its
 * wakeup preemption, so it runs when the JavaScript thread yields and moves everything
 * queued by then in one go (in the bench: 4.2k -> 6.0k req/s on one core, workers' CPU
 * per request halved). Unprivileged processes may choose it; it exists on Linux only.
 */
import { context } from "zeromq";

/** sched(7): SCHED_BATCH on Linux. */
const SCHED_BATCH = 3;

export interface IoThreadSettings {
  ioThreads: number;
  ioThreadScheduling: "batch" | "normal";
}

export function configureIoThreads(settings: IoThreadSettings, platform: NodeJS.Platform = process.platform): void {
  context.ioThreads = settings.ioThreads;
  if (settings.ioThreadScheduling === "batch" && platform === "linux") context.threadSchedulingPolicy = SCHED_BATCH;
}
