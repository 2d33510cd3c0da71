/**
 * The gateway's error vocabulary. Every failure a caller can see has a stable code;
 * the HTTP layer maps codes to statuses in one table (`http/problem.ts`). This module
 * knows nothing about HTTP.
 */
export const errorCodes = {
  UNKNOWN_SERVICE: "no service by that name",
  NO_WORKER: "no worker is connected to the service",
  QUEUE_FULL: "the service's queue is full",
  UNHEALTHY: "too many of the service's workers are ejected",
  TIMEOUT: "the worker did not answer before the deadline",
  BAD_REPLY: "the worker's reply could not be understood",
  REPLY_TOO_LARGE: "the worker's reply is larger than the service allows",
  WORKER_LOST: "the worker was lost while it held the request",
  BODY_TOO_LARGE: "the request body is larger than the service allows",
  BAD_REQUEST: "the request is malformed",
  HEADERS_TOO_LARGE: "the request headers are larger than the gateway allows",
  REQUEST_TIMEOUT: "the request was not received in time",
  DRAINING: "the gateway is shutting down",
  CANCELLED: "the client went away",
  NOT_FOUND: "no such resource",
  INVALID_ENDPOINT: "the worker endpoint is not acceptable",
  UNAUTHORIZED: "a valid admin token is required",
  FORBIDDEN: "cross-site requests to the admin API are refused",
  INTERNAL: "the gateway failed unexpectedly",
} as const;

export type ErrorCode = keyof typeof errorCodes;

/** A failure with a stable `code`; `message` is safe to show to callers. */
export class GatewayError extends Error {
  override readonly name = "GatewayError";
  readonly code: ErrorCode;
  /** Seconds a client should wait before retrying, where that helps (NO_WORKER, QUEUE_FULL). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ErrorCode,
    message: string = errorCodes[code],
    options: { cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}

/** A configuration problem: the CLI prints `message` (which names the field) and exits 2. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}
