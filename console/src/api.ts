/**
 * The admin API as the page uses it: JSON over fetch, with the admin token from this tab's
 * sessionStorage sent as `Authorization: Bearer`. Failures throw ApiError with the
 * problem document's detail when there is one.
 */

const TOKEN_KEY = "zmq-gateway.admin-token";

export function readToken(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

/** Stores the token for this tab (cleared when it closes); an empty one removes it. */
export function saveToken(token: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export async function adminFetch<T>(
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  const token = readToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(path, {
    method: init.method ?? "GET",
    headers,
    body: init.body === undefined ? null : JSON.stringify(init.body),
  });
  if (!response.ok) {
    let detail = `${response.status} ${response.statusText}`;
    try {
      const problem = (await response.json()) as { detail?: string; title?: string };
      detail = problem.detail ?? problem.title ?? detail;
    } catch {
      // not a problem document: keep the status line
    }
    throw new ApiError(response.status, detail);
  }
  return (response.status === 204 ? undefined : await response.json()) as T;
}

/** GET /admin/services, as far as the page uses it. */
export interface ServicesResponse {
  draining: boolean;
  services: ServiceInfo[];
}

export interface ServiceInfo {
  name: string;
  mode: string;
  connectedWorkers: number;
  inFlight: number;
  queued: number;
  workers: WorkerInfo[];
}

export interface WorkerInfo {
  id: string;
  endpoint: string;
  joined: string;
  mode: string;
  state: string;
  peers: number;
  inFlight: number;
  served: number;
  failures: number;
  timeouts: number;
  lastSeen: string | null;
}

/** GET /admin/console/stats. */
export interface ConsoleStats {
  atMs: number;
  windowSeconds: number | null;
  services: {
    name: string;
    requests: number;
    errors: number;
    windowRequests: number;
    p50Ms: number | null;
    p99Ms: number | null;
  }[];
}

/** POST /admin/console/try. */
export interface TryResult {
  status: number;
  headers: [string, string][];
  body: string;
  bodyEncoding: "utf8" | "base64";
  bodyBytes: number;
  truncated: boolean;
  durationMs: number;
  requestId: string | null;
  traceId: string | null;
  traceIdSource: "traceresponse" | "traceparent" | "request-id" | null;
}
