/**
 * The files behind the console and the API reference, all served by the gateway itself
 * (it must work offline: nothing comes from a CDN). Pages and styles live in console/,
 * the page scripts are compiled from console/src/ into dist/console/ (npm run build),
 * Swagger UI comes from the swagger-ui-dist package, and openapi.yaml from the package
 * root. Each file is read once, on first use, and answered with an ETag.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Context } from "hono";
import { GatewayError } from "../../errors.js";

/** The nearest directory above this module holding package.json: the repository or the installed package. */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error("zmq-gateway: package.json not found above the console module");
    dir = parent;
  }
  return dir;
}

function swaggerUiDir(): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  } catch {
    return undefined;
  }
}

const root = findPackageRoot();

/** Scripts only from this origin; no inline script anywhere. Swagger UI sets inline styles. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const SECURITY_HEADERS = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  map: "application/json",
  yaml: "application/yaml; charset=utf-8",
};

interface Asset {
  body: Buffer;
  etag: string;
  type: string;
}

const cache = new Map<string, Asset>();

function load(file: string): Asset | undefined {
  const cached = cache.get(file);
  if (cached) return cached;
  let body: Buffer;
  try {
    body = readFileSync(file);
  } catch {
    return undefined;
  }
  const extension = file.slice(file.lastIndexOf(".") + 1);
  const asset = {
    body,
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
    type: TYPES[extension] ?? "application/octet-stream",
  };
  cache.set(file, asset);
  return asset;
}

/** Where a public asset name (`/admin/assets/{name}`) is on disk; undefined: no such asset. */
export function assetPath(name: string): string | undefined {
  if (name === "swagger-ui-bundle.js" || name === "swagger-ui.css") {
    const dir = swaggerUiDir();
    return dir && join(dir, name);
  }
  if (/^[a-z0-9-]+\.css$/.test(name)) return join(root, "console", name);
  if (/^[a-z0-9-]+\.js(\.map)?$/.test(name)) return join(root, "dist", "console", name);
  return undefined;
}

export const pagePath = (name: "index.html" | "docs.html"): string => join(root, "console", name);
export const openApiPath = join(root, "openapi.yaml");

/** Answers a file (304 when the ETag matches); a missing file is a 404 problem that says why. */
export function serveFile(c: Context, file: string | undefined): Response {
  const asset = file === undefined ? undefined : load(file);
  if (!asset)
    throw new GatewayError(
      "NOT_FOUND",
      file === undefined
        ? `no asset at ${c.req.path}`
        : `${c.req.path} is not installed (run npm run build)`,
    );
  const headers = { ...SECURITY_HEADERS, etag: asset.etag, "content-type": asset.type };
  if (c.req.header("if-none-match") === asset.etag) return c.body(null, 304, headers);
  return c.body(new Uint8Array(asset.body), 200, headers);
}
