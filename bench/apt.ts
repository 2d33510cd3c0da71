/**
 * Debian packages the peers need (wrk, mongrel2-core, nginx-light), installed with
 * apt-get when their programs are missing. `apt-get update` runs only if the first
 * install fails, which keeps a warm machine's run fast and offline.
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";

/** A Debian package and the programs that show it is installed. */
export interface DebianPackage {
  name: string;
  programs: readonly string[];
}

export const WRK: DebianPackage = { name: "wrk", programs: ["wrk"] };
export const MONGREL2: DebianPackage = { name: "mongrel2-core", programs: ["mongrel2", "m2sh"] };
export const NGINX: DebianPackage = { name: "nginx-light", programs: ["nginx"] };

/** Looks a program up on PATH plus the sbin folders (nginx lives in /usr/sbin). */
export function findExecutable(program: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin", "/usr/bin", "/bin"];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = `${dir}/${program}`;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Like findExecutable, but throws naming the package to install. */
export function requireExecutable(program: string): string {
  const found = findExecutable(program);
  if (!found)
    throw new Error(`${program} is not installed (apt-get install -y the package that has it)`);
  return found;
}

function aptGet(args: readonly string[]): void {
  execFileSync("apt-get", args, {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

/**
 * Installs whichever of `packages` are missing. Needs root; without it, throws with the
 * command to run by hand.
 */
export function ensurePackages(packages: readonly DebianPackage[]): void {
  const missing = packages.filter((pkg) =>
    pkg.programs.some((program) => !findExecutable(program)),
  );
  if (missing.length === 0) return;
  const names = missing.map((pkg) => pkg.name);
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages; run: sudo apt-get install -y ${names.join(" ")}`);
  }
  console.log(`installing ${names.join(", ")} with apt-get`);
  try {
    aptGet(["install", "-y", ...names]);
  } catch {
    aptGet(["update"]);
    aptGet(["install", "-y", ...names]);
  }
  for (const pkg of missing) for (const program of pkg.programs) requireExecutable(program);
}
