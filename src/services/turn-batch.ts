/**
 * Settlements that happen in one event-loop turn are delivered together, at the end of
 * that turn (`setImmediate`, after the poll phase has run every I/O callback that was
 * ready).
 *
 * Why: the replies of a burst come out of one ZeroMQ receive loop. Resolved one at a
 * time, each HTTP response is written (writev) between the JavaScript of the next reply,
 * so on a loaded gateway every response lands at a client that has gone back to sleep in
 * the meantime and must be woken again: on loopback that wake-up (an inter-processor
 * interrupt) was a third of the cost of the writev. Delivered together, the handlers'
 * continuations run side by side through the same microtask rounds and their writes go
 * out back to back, while the client is still awake from the first. Measured on one core
 * (interleaved A/B, docs/benchmarks.md): GET 14-16k -> 20-21k req/s, POST +12-18%,
 * the 1-connection latency unchanged.
 *
 * The cost: a reply waits for the rest of its turn (the other replies and HTTP requests
 * that were ready at the same time): tens of microseconds under load, one check phase
 * when it came alone. Deliveries run in the order they were deferred; one deferred during
 * a delivery goes to the next turn.
 */
export class TurnBatch {
  /** `deliver, value` pairs, flat: no closure or record per settlement. */
  private waiting: unknown[] = [];

  private readonly flush = (): void => {
    const due = this.waiting;
    this.waiting = [];
    for (let index = 0; index < due.length; index += 2) (due[index] as (value: unknown) => void)(due[index + 1]);
  };

  /**
   * Calls `deliver(value)` at the end of this turn. `deliver` must not throw (a Promise's
   * resolve or reject, a waiter's wake-up): a throw would escape into the event loop and
   * skip the deliveries after it.
   */
  defer<T>(deliver: (value: T) => void, value: T): void {
    if (this.waiting.length === 0) setImmediate(this.flush);
    this.waiting.push(deliver, value);
  }

  /** Deliveries deferred and not yet made. */
  get size(): number {
    return this.waiting.length / 2;
  }
}
