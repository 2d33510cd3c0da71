/**
 * The one table from error codes to HTTP: status, title and RFC 9457 problem+json body.
 * Bodies never carry stack traces or internal state.
 */
import { errorCodes, type ErrorCode, type GatewayError } from "../errors.js";

export const problemStatus: Record<ErrorCode, number> = {
  UNKNOWN_SERVICE: 404,
  NO_WORKER: 503,
  QUEUE_FULL: 503,
  UNHEALTHY: 503,
  TIMEOUT: 504,
  BAD_REPLY: 502,
  REPLY_TOO_LARGE: 502,
  WORKER_LOST: 502,
  BODY_TOO_LARGE: 413,
  BAD_REQUEST: 400,
  HEADERS_TOO_LARGE: 431,
  REQUEST_TIMEOUT: 408,
  DRAINING: 503,
  CANCELLED: 499,
  NOT_FOUND: 404,
  INVALID_ENDPOINT: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  INTERNAL: 500,
};

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId?: string;
}

export function problemType(code: ErrorCode): string {
  return `urn:zmq-gateway:problem:${code.toLowerCase().replaceAll("_", "-")}`;
}

export function problemFor(error: GatewayError, extra: { instance?: string; requestId?: string } = {}): Problem {
  return {
    type: problemType(error.code),
    title: errorCodes[error.code],
    status: problemStatus[error.code],
    detail: error.message,
    code: error.code,
    ...extra,
  };
}
