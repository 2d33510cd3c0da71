/**
 * Envoy's retry budget: retries under way may be at most `budgetPercent` of the active
 * requests, but always at least `minRetryConcurrency`. It keeps a failing pool from
 * being hammered by retries of its own failures.
 */
export class RetryBudget {
  private readonly percent: number;
  private readonly minimum: number;
  /** Retries queued or in flight now. */
  active = 0;

  constructor(percent: number, minimum: number) {
    this.percent = percent;
    this.minimum = minimum;
  }

  /** Whether one more retry may start while `activeRequests` requests are under way. */
  allows(activeRequests: number): boolean {
    const limit = Math.max(this.minimum, Math.floor((activeRequests * this.percent) / 100));
    return this.active < limit;
  }
}
