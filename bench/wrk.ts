/**
 * Runs wrk (pinned to the load CPU) and reads its results. A Lua script sets the method
 * and body and, in wrk's `done` hook, prints one `WRK_JSON {...}` line with exact
 * percentiles in µs, so nothing depends on parsing wrk's rounded human units. `--latency`
 * is passed too, so the saved raw output has wrk's own distribution table.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { readCpuMicros } from "./cpu.js";
import { FIXED_JSON } from "./payload.js";
import { LOAD_CPU, pinCommand } from "./pinning.js";
import { adoptPid } from "./processes.js";

export type Method = "GET" | "POST";

export interface WrkOptions {
  wrkPath: string;
  url: string;
  method: Method;
  connections: number;
  durationSeconds: number;
  /** Folder for the Lua scripts. */
  scriptDir: string;
}

/** Failed requests of any kind, from a load's error counts (wrk's or the open-loop client's). */
export function errorCount(errors: Readonly<Record<string, number>>): number {
  return Object.values(errors).reduce((sum, count) => sum + count, 0);
}

/** What one wrk run measured. Latencies in µs; wrk measures them per request. */
export interface WrkResult {
  method: Method;
  connections: number;
  durationSeconds: number;
  requests: number;
  requestsPerSecond: number;
  /** Response bytes (headers + body) per request, to see that peers send alike. */
  bytesPerResponse: number;
  latencyUs: { mean: number; p50: number; p90: number; p99: number; p999: number; max: number };
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
}

const DONE_HOOK = `
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,' ..
    '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},' ..
    '"latency_us":{"mean":%.1f,"p50":%.0f,"p90":%.0f,"p99":%.0f,"p999":%.0f,"max":%.0f}}\\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max))
end
`;

/** Writes get.lua and post.lua (POST body = the fixed 100-byte JSON) into `dir`. */
export function writeWrkScripts(dir: string): void {
  writeFileSync(`${dir}/get.lua`, `wrk.method = "GET"\n${DONE_HOOK}`);
  const post = [
    `wrk.method = "POST"`,
    `wrk.body = [[${FIXED_JSON}]]`,
    `wrk.headers["Content-Type"] = "application/json"`,
  ].join("\n");
  writeFileSync(`${dir}/post.lua`, `${post}\n${DONE_HOOK}`);
}

/** Pulls the WRK_JSON line out of wrk's output; throws quoting the output if absent. */
export function parseWrkOutput(
  output: string,
  options: Pick<WrkOptions, "method" | "connections" | "durationSeconds">,
): WrkResult {
  const line = output.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (!line) throw new Error(`wrk printed no result:\n${output.slice(-2_000)}`);
  const raw = JSON.parse(line.slice("WRK_JSON ".length)) as {
    requests: number;
    duration_us: number;
    bytes: number;
    errors: WrkResult["errors"];
    latency_us: WrkResult["latencyUs"];
  };
  return {
    method: options.method,
    connections: options.connections,
    durationSeconds: options.durationSeconds,
    requests: raw.requests,
    requestsPerSecond: Math.round((raw.requests * 1_000_000) / Math.max(raw.duration_us, 1)),
    bytesPerResponse: Math.round(raw.bytes / Math.max(raw.requests, 1)),
    latencyUs: raw.latency_us,
    errors: raw.errors,
  };
}

/**
 * One wrk run: `-t1 -c N -d Ss --latency`, keep-alive (wrk's default), pinned to the
 * load CPU. Resolves with the parsed result and wrk's raw output.
 */
export function runWrk(
  options: WrkOptions,
): Promise<{ result: WrkResult; output: string; wrkCpuUs: number }> {
  const script = `${options.scriptDir}/${options.method === "GET" ? "get" : "post"}.lua`;
  const args = [
    "-t1",
    `-c${options.connections}`,
    `-d${options.durationSeconds}s`,
    "--timeout",
    "10s",
    "--latency",
    "-s",
    script,
    options.url,
  ];
  const [command, fullArgs] = pinCommand(LOAD_CPU, options.wrkPath, args);
  return new Promise((resolve, reject) => {
    const child = spawn(command, fullArgs, { stdio: ["ignore", "pipe", "pipe"] });
    const release = child.pid === undefined ? () => true : adoptPid(child.pid); // killed on Ctrl-C
    let output = "";
    // wrk's own CPU, sampled until it exits (the last < 200 ms are missed): shows whether
    // the load generator, not the server, was the limit.
    let wrkCpuUs = 0;
    const sampler = setInterval(() => {
      if (child.pid !== undefined) wrkCpuUs = Math.max(wrkCpuUs, readCpuMicros(child.pid));
    }, 200);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.once("error", (error) => {
      clearInterval(sampler);
      release();
      reject(error);
    });
    child.once("close", (code) => {
      clearInterval(sampler);
      release();
      if (code !== 0) return reject(new Error(`wrk exited ${code}:\n${output.slice(-2_000)}`));
      try {
        resolve({ result: parseWrkOutput(output, options), output, wrkCpuUs });
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}
