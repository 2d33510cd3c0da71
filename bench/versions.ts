/**
 * The machine and software a result was measured on, recorded with every run: numbers
 * from another CPU or another nginx are not comparable. The load average at start is
 * there because this machine may be shared.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, totalmem } from "node:os";
import { findExecutable } from "./apt.js";
import { clockTicksPerSecond } from "./cpu.js";
import { repoRoot } from "./paths.js";
import { pinningEnabled } from "./pinning.js";

/**
 * First non-empty line of a command's stdout + stderr, or undefined if it is not
 * installed. (`nginx -v` writes to stderr; `wrk -v` exits 1.)
 */
function firstLine(program: string, args: readonly string[]): string | undefined {
  const path = findExecutable(program);
  if (!path) return undefined;
  const { stdout, stderr } = spawnSync(path, args, { encoding: "utf8", timeout: 5_000 });
  return `${stdout ?? ""}\n${stderr ?? ""}`
    .split("\n")
    .find((l) => l.trim())
    ?.trim();
}

function packageVersion(name: string): string | undefined {
  try {
    const json = readFileSync(`${repoRoot}node_modules/${name}/package.json`, "utf8");
    return (JSON.parse(json) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

export interface MachineInfo {
  date: string;
  cpuModel: string | undefined;
  cpus: number;
  memoryGiB: number;
  kernel: string;
  loadAverage: number[];
  clockTicksPerSecond: number;
  pinned: boolean;
  versions: Record<string, string | undefined>;
  gitCommit: string | undefined;
}

export function describeMachine(): MachineInfo {
  let gitCommit: string | undefined;
  try {
    gitCommit = execFileSync("git", ["-C", repoRoot, "rev-parse", "--short", "HEAD"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    gitCommit = undefined;
  }
  return {
    date: new Date().toISOString(),
    cpuModel: cpus()[0]?.model,
    cpus: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 1024 ** 3),
    kernel: release(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    clockTicksPerSecond: clockTicksPerSecond(),
    pinned: pinningEnabled(),
    versions: {
      node: process.version,
      zeromq: packageVersion("zeromq"),
      hono: packageVersion("hono"),
      "@hono/node-server": packageVersion("@hono/node-server"),
      wrk: firstLine("wrk", ["-v"]),
      nginx: firstLine("nginx", ["-v"]),
      mongrel2: firstLine("m2sh", ["version"]),
    },
    gitCommit,
  };
}
