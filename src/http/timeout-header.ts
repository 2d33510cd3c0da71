/**
 * `Request-Timeout: 250ms` | `2s` | `1.5s` | `250` (milliseconds). Returns milliseconds,
 * or undefined when the header is absent; throws BAD_REQUEST when it is malformed.
 */
import { GatewayError } from "../errors.js";

export const TIMEOUT_HEADER = "request-timeout";

export function parseTimeoutHeader(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$/.exec(value);
  const amount = match ? Number(match[1]) * (match[2] === "s" ? 1000 : 1) : NaN;
  if (!Number.isFinite(amount) || amount < 1) {
    throw new GatewayError("BAD_REQUEST", `Request-Timeout must be a duration of at least 1ms such as "250ms" or "2s" (got "${value}")`);
  }
  return Math.round(amount);
}
