/**
 * The gateway as a real process (`node dist/src/main.js`), for CLI, config-error and
 * signal tests. Its log lines are collected; ports are read from the "listening" line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { stringify } from "yaml";
import { mainScript } from "./paths.js";

export interface GatewayProcess {
  child: ChildProcess;
  url: string;
  adminUrl: string;
  httpPort: number;
  adminPort: number;
  logs: Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/** Writes `config` (an object) to a temporary YAML file and returns its path. */
export function writeConfigFile(config: unknown, name = "gateway.yaml"): string {
  const dir = mkdtempSync(join(tmpdir(), "zmq-gateway-test-"));
  const file = join(dir, name);
  writeFileSync(file, typeof config === "string" ? config : stringify(config));
  return file;
}

/** Runs the CLI to completion (for --help, --version, config errors). */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [mainScript, ...args], { env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts the gateway process and resolves once it listens. */
export async function spawnGateway(args: string[], env: Record<string, string> = {}): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [mainScript, ...args], {
    env: { ...process.env, ZMQ_GATEWAY_PORT: "0", ZMQ_GATEWAY_ADMIN_PORT: "0", ZMQ_GATEWAY_HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, stderr })),
  );
  const logs: Record<string, unknown>[] = [];
  const lines = createInterface({ input: child.stdout });
  const ports = await new Promise<{ httpPort: number; adminPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${stderr}`)), 15_000);
    lines.on("line", (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      logs.push(entry);
      if (entry.event === "listening") {
        clearTimeout(timer);
        resolve({ httpPort: entry.httpPort as number, adminPort: entry.adminPort as number });
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before listening: ${stderr}`));
    });
  });
  return {
    child,
    ...ports,
    url: `http://127.0.0.1:${ports.httpPort}`,
    adminUrl: `http://127.0.0.1:${ports.adminPort}`,
    logs,
    exited,
  };
}
