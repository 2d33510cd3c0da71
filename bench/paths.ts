/**
 * Where things are, computed from this file's compiled location (dist/bench/paths.js),
 * so `npm run bench` works from any working directory.
 */
import { fileURLToPath } from "node:url";

const distDir = fileURLToPath(new URL("../", import.meta.url));

/** Absolute path of a compiled file under dist/, e.g. `distFile("bench/servers/http-echo.js")`. */
export function distFile(relative: string): string {
  return distDir + relative;
}

/** The repository root (the parent of dist/). */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

/** Results land here; bench/results/ is gitignored. */
export const resultsDir = `${repoRoot}bench/results`;
