/**
 * A bounded closed-loop load: `concurrency` clients send one request after another until
 * `durationMs` passes or `maxRequests` have been sent. Every response is recorded.
 */
export interface LoadResult {
  index: number;
  method: string;
  token: string;
  status: number;
  body: string;
  ms: number;
}

export async function runLoad(options: {
  url: string;
  concurrency: number;
  durationMs: number;
  maxRequests: number;
  method?: (index: number) => string;
  headers?: Record<string, string>;
  onProgress?: (sent: number) => void;
}): Promise<LoadResult[]> {
  const results: LoadResult[] = [];
  const stopAt = Date.now() + options.durationMs;
  let next = 0;
  const client = async () => {
    while (Date.now() < stopAt && next < options.maxRequests) {
      const index = next++;
      options.onProgress?.(index);
      const method = options.method?.(index) ?? "POST";
      const token = `t${index}`;
      const started = performance.now();
      const url = method === "GET" ? `${options.url}?token=${token}` : options.url;
      const response = await fetch(url, { method, body: method === "GET" ? undefined : token, headers: options.headers });
      results.push({ index, method, token, status: response.status, body: await response.text(), ms: performance.now() - started });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  return results;
}
