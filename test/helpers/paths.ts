/** Paths that work from the compiled tests (dist/test/helpers/*.js). */
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const distRoot = fileURLToPath(new URL("../../", import.meta.url));
export const mainScript = `${distRoot}src/main.js`;
export const exampleScript = (name: string): string => `${distRoot}examples/${name}.js`;
export const fixtureScript = (name: string): string => `${distRoot}test/fixtures/${name}.js`;
export const pythonExample = (name: string): string => `${repoRoot}examples/python/${name}.py`;
/** Debian's python3-zmq installs for this interpreter only. */
export const PYTHON = "/usr/bin/python3";
