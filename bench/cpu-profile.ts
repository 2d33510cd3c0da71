/**
 * Reads a V8 .cpuprofile (written by `node --cpu-prof`, which `--cpu-prof` asks for on
 * the gateway) and says where the main thread's time went: by package or source folder,
 * and by function, as a share of all samples. This is how docs/benchmarks.md answers
 * "what limits the gateway". ZeroMQ's own I/O thread is not in it (not JavaScript).
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
}

/** A bucket of samples and its share of all samples, %. */
export interface ProfileShare {
  name: string;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  durationMs: number;
  byBucket: ProfileShare[];
  byFunction: ProfileShare[];
}

/** Groups a source URL: a package under node_modules, a repo folder, or node itself. */
function bucketOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.startsWith("node:")) return "node: (core modules)";
  const own = /\/dist\/([^/]+\/[^/]+)\//.exec(url);
  if (own?.[1]) return own[1];
  return url.replace(/^.*\//, "");
}

function top(map: Map<string, number>, total: number, count: number): ProfileShare[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, hits]) => ({ name, percent: Math.round((hits / total) * 1000) / 10 }));
}

export function summarizeProfile(file: string, count = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byBucket = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    total += hits;
    const { functionName, url, lineNumber } = node.callFrame;
    const bucket = bucketOf(url, functionName);
    byBucket.set(bucket, (byBucket.get(bucket) ?? 0) + hits);
    const where = url ? ` ${bucket}:${lineNumber + 1}` : "";
    const name = `${functionName || "(anonymous)"}${where}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
  }
  return {
    file,
    durationMs: Math.round((profile.endTime - profile.startTime) / 1000),
    byBucket: top(byBucket, Math.max(total, 1), count),
    byFunction: top(byFunction, Math.max(total, 1), count),
  };
}
