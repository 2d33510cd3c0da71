import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { GATEWAY_NODE_FLAGS } from "../../src/node-flags.js";
import { repoRoot } from "../helpers/paths.js";

const read = (path: string): string => readFileSync(join(repoRoot, path), "utf8");

describe("the gateway's V8 flags", () => {
  it("are on every static launcher: the bin's shebang, the Dockerfile's entry point and npm run gateway", () => {
    const shebang = read("src/main.ts").split("\n")[0] ?? "";
    const entrypoint = /^ENTRYPOINT (.*)$/m.exec(read("Dockerfile"))?.[1] ?? "";
    const script = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts["gateway"] ?? "";
    assert.ok(GATEWAY_NODE_FLAGS.length > 0);
    for (const flag of GATEWAY_NODE_FLAGS) {
      assert.match(shebang, new RegExp(`^#!/usr/bin/env -S node .*${flag}`), "src/main.ts shebang");
      assert.ok((JSON.parse(entrypoint) as string[]).includes(flag), `Dockerfile ENTRYPOINT ${entrypoint}`);
      assert.ok(script.split(" ").includes(flag), `npm run gateway: ${script}`);
    }
  });
});
