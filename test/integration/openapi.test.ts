/**
 * openapi.yaml is checked twice: as a document (a valid OpenAPI 3.1 file whose error
 * vocabulary is the gateway's own), and against a real gateway with real REP workers,
 * whose responses must match the operation and status they were sent to: status,
 * headers, media type and body (JSON Schema 2020-12, as OpenAPI 3.1 uses).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { compileErrors, dereference, validate } from "@readme/openapi-parser";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { parse as parseYaml } from "yaml";
import { errorCodes, type ErrorCode } from "../../src/errors.js";
import { problemStatus } from "../../src/http/problem.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { repoRoot } from "../helpers/paths.js";
import { echo, startWorker, type InProcessWorker } from "../helpers/workers.js";

type Json = Record<string, unknown>;
interface MediaSpec {
  schema?: Json;
}
interface HeaderSpec {
  required?: boolean;
  schema?: Json;
}
interface ResponseSpec {
  description: string;
  headers?: Record<string, HeaderSpec>;
  content?: Record<string, MediaSpec>;
}
interface OperationSpec {
  operationId?: string;
  tags?: string[];
  responses: Record<string, ResponseSpec>;
}
type PathItem = Record<string, unknown>;
interface OpenApiDocument {
  openapi: string;
  paths: Record<string, PathItem>;
  components: { schemas: Record<string, Json> };
}

const METHODS = ["get", "head", "post", "put", "patch", "delete", "options", "trace"] as const;

function readDocument(): OpenApiDocument {
  return parseYaml(readFileSync(`${repoRoot}openapi.yaml`, "utf8")) as OpenApiDocument;
}

type ParserInput = Parameters<typeof validate>[0];

/** The document with every $ref replaced by what it points to. */
async function resolvedDocument(): Promise<OpenApiDocument> {
  return (await dereference(
    readDocument() as unknown as ParserInput,
  )) as unknown as OpenApiDocument;
}

function operationsOf(
  document: OpenApiDocument,
): { path: string; method: string; operation: OperationSpec }[] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method] !== undefined).map((method) => ({
      path,
      method,
      operation: item[method] as OperationSpec,
    })),
  );
}

/** Codes a problem schema allows: its own `code.enum`, else the base Problem's. */
function problemCodes(schema: Json): ErrorCode[] {
  const own = (schema.properties as Record<string, Json> | undefined)?.code?.enum as
    ErrorCode[] | undefined;
  if (own) return own;
  const base = (schema.allOf as Json[] | undefined)?.[0];
  return base ? problemCodes(base) : (Object.keys(errorCodes) as ErrorCode[]);
}

/** The dereferenced document and a validator for its schemas. */
class Contract {
  readonly document: OpenApiDocument;
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true });
  private readonly compiled = new WeakMap<Json, ValidateFunction>();

  constructor(document: OpenApiDocument) {
    this.document = document;
    // OpenAPI's own schema keywords (annotations only).
    this.ajv.addVocabulary(["example", "discriminator", "xml", "externalDocs"]);
    this.ajv.addFormat(
      "date-time",
      (value: string) =>
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value) &&
        !Number.isNaN(Date.parse(value)),
    );
  }

  static async load(): Promise<Contract> {
    return new Contract(await resolvedDocument());
  }

  /** Asserts that `value` is valid against `schema` (JSON Schema 2020-12). */
  matches(schema: Json, value: unknown, what: string): void {
    let validator = this.compiled.get(schema);
    if (!validator) {
      validator = this.ajv.compile(schema);
      this.compiled.set(schema, validator);
    }
    if (!validator(value)) {
      assert.fail(
        `${what} does not match the document: ${this.ajv.errorsText(validator.errors)}\n${JSON.stringify(value)}`,
      );
    }
  }

  /**
   * Asserts that `response` is what the document promises for `method path` with its status,
   * and returns the body (parsed when JSON). `via` names the response key it must match:
   * the status itself unless told otherwise (e.g. "default").
   */
  async expect(
    response: Response,
    path: string,
    method: string,
    via = String(response.status),
  ): Promise<unknown> {
    const operation = this.document.paths[path]?.[method] as OperationSpec | undefined;
    assert.ok(operation, `the document has no ${method.toUpperCase()} ${path}`);
    const spec = operation.responses[String(response.status)] ?? operation.responses.default;
    const key = operation.responses[String(response.status)] ? String(response.status) : "default";
    assert.equal(
      key,
      via,
      `${method.toUpperCase()} ${path} answered ${response.status}, documented under "${key}"`,
    );
    assert.ok(spec, `${method.toUpperCase()} ${path} does not document ${response.status}`);
    const where = `${method.toUpperCase()} ${path} ${response.status}`;

    for (const [name, header] of Object.entries(spec.headers ?? {})) {
      const value = response.headers.get(name);
      if (value === null) {
        assert.ok(!header.required, `${where}: the required header ${name} is missing`);
        continue;
      }
      if (header.schema) this.matches(header.schema, value, `${where}: header ${name}`);
    }

    const text = await response.text();
    if ([204, 205, 304].includes(response.status)) {
      assert.equal(text, "", `${where}: a ${response.status} carries no content`);
      return undefined;
    }
    if (!spec.content) {
      assert.equal(text, "", `${where}: the document describes no body`);
      return undefined;
    }
    const contentType =
      (response.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
    const [type] = contentType.split("/");
    const mediaKey = [contentType, `${type}/*`, "*/*"].find(
      (candidate) => spec.content![candidate] !== undefined,
    );
    assert.ok(
      mediaKey,
      `${where}: content type "${contentType}" is not among ${Object.keys(spec.content).join(", ")}`,
    );
    const media = spec.content[mediaKey];
    if (!/[/+]json$/.test(contentType)) return text;
    const body = JSON.parse(text) as unknown;
    if (media?.schema) this.matches(media.schema, body, `${where}: body`);
    return body;
  }
}

describe("openapi.yaml as a document", () => {
  test("is a valid OpenAPI 3.1 document", async () => {
    const document = readDocument();
    assert.match(document.openapi, /^3\.1\./);
    const result = await validate(document as unknown as ParserInput);
    assert.ok(result.valid, compileErrors(result));
    assert.deepEqual(result.warnings, []);
  });

  test("gives every operation a unique operationId and a tag, and every response an X-Request-Id header", async () => {
    const document = await resolvedDocument();
    const ids = new Set<string>();
    for (const { path, method, operation } of operationsOf(document)) {
      const name = `${method.toUpperCase()} ${path}`;
      assert.ok(operation.operationId, `${name} has no operationId`);
      assert.ok(
        !ids.has(operation.operationId),
        `${name}: operationId ${operation.operationId} is used twice`,
      );
      ids.add(operation.operationId);
      assert.ok(operation.tags?.length, `${name} has no tag`);
      for (const [status, response] of Object.entries(operation.responses)) {
        assert.equal(
          response.headers?.["X-Request-Id"]?.required,
          true,
          `${name} ${status} does not promise X-Request-Id`,
        );
      }
    }
  });

  test("documents one operation per HTTP method on both call paths", () => {
    const { paths } = readDocument();
    for (const path of ["/v1/{service}", "/v1/{service}/{path}"]) {
      for (const method of ["get", "head", "post", "put", "patch", "delete", "options", "trace"]) {
        assert.ok(paths[path]?.[method], `${method.toUpperCase()} ${path} is missing`);
      }
    }
  });

  test("has examples that match their own schemas", async () => {
    const contract = await Contract.load();
    let checked = 0;
    const visit = (node: unknown, where: string): void => {
      if (node === null || typeof node !== "object") return;
      const item = node as Json;
      const schema = item.schema as Json | undefined;
      if (schema && typeof schema === "object" && ("example" in item || "examples" in item)) {
        const examples =
          "example" in item
            ? { example: { value: item.example } }
            : (item.examples as Record<string, { value: unknown }>);
        for (const [name, example] of Object.entries(examples)) {
          contract.matches(schema, example.value, `${where} example "${name}"`);
          checked++;
        }
      }
      for (const [key, child] of Object.entries(item))
        if (key !== "schema") visit(child, `${where}/${key}`);
    };
    visit(contract.document.paths, "#/paths");
    assert.ok(checked > 15, `only ${checked} examples checked`);
  });

  test("lists exactly the gateway's error codes and puts each problem under the status its code maps to", async () => {
    const document = readDocument();
    assert.deepEqual(
      [...(document.components.schemas.ErrorCode!.enum as string[])].sort(),
      Object.keys(errorCodes).sort(),
    );
    const resolved = await resolvedDocument();
    let problems = 0;
    for (const { path, method, operation } of operationsOf(resolved)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const schema = response.content?.["application/problem+json"]?.schema;
        if (!schema) continue;
        problems++;
        for (const code of problemCodes(schema)) {
          assert.equal(
            String(problemStatus[code]),
            status,
            `${method.toUpperCase()} ${path} lists ${code} under ${status}`,
          );
        }
      }
    }
    assert.ok(problems > 20, `only ${problems} problem responses found`);
  });
});

describe("a running gateway answers as openapi.yaml says", () => {
  let contract: Contract;
  let gw: TestGateway;
  let plain: InProcessWorker;
  let meta: InProcessWorker;
  let twoFrames: InProcessWorker;
  let slow: InProcessWorker;
  let spare: InProcessWorker;
  let releaseSlow: () => void = () => undefined;
  const slowGate = new Promise<void>((resolve) => (releaseSlow = resolve));

  before(async () => {
    contract = await Contract.load();
    plain = await startWorker(echo);
    // Meta worker: the status is the last path segment when it is a number; it sets a header.
    meta = await startWorker(([body, requestMeta]) => {
      const request = JSON.parse(requestMeta?.toString() ?? "{}") as { path?: string };
      const status = Number(request.path?.split("/").pop()) || 200;
      return [
        body ?? "",
        JSON.stringify({
          status,
          headers: { "content-type": "application/json", "x-served-by": "meta" },
        }),
      ];
    });
    twoFrames = await startWorker(() => ["one", "two"]);
    slow = await startWorker(async (frames) => {
      await slowGate;
      return frames;
    });
    spare = await startWorker(echo);
    gw = await startGateway({
      log: { level: "silent" },
      services: {
        plain: { workers: [plain.endpoint], maxBodyBytes: 16, contentType: "text/plain" },
        meta: { mode: "meta", workers: [meta.endpoint] },
        twoframes: { workers: [twoFrames.endpoint] },
        slow: { workers: [slow.endpoint] },
        empty: {},
        spare: {},
        door: { bind: "tcp://127.0.0.1:0", frontend: "tcp://127.0.0.1:0" },
      },
    });
    for (const name of ["plain", "meta", "twoframes", "slow"]) await gw.waitForWorkers(name, 1);
  });

  after(async () => {
    releaseSlow();
    await gw.stop();
    for (const worker of [plain, meta, twoFrames, slow, spare]) worker.close();
  });

  test("a plain worker's reply is a 200 with the service's content type and the caller's request id", async () => {
    const response = await fetch(`${gw.url}/v1/plain/notes/1`, {
      method: "PUT",
      body: "hello",
      headers: { "x-request-id": "contract_1=" },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/plain");
    assert.equal(response.headers.get("x-request-id"), "contract_1=");
    assert.equal(await contract.expect(response, "/v1/{service}/{path}", "put"), "hello");
  });

  test("a meta worker's reply meta sets a header on a 200 and any other status falls under default", async () => {
    const ok = await fetch(`${gw.url}/v1/meta`, { method: "POST", body: '{"n":1}' });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get("x-served-by"), "meta");
    assert.deepEqual(await contract.expect(ok, "/v1/{service}", "post"), { n: 1 });
    const created = await fetch(`${gw.url}/v1/meta/things/201`, {
      method: "POST",
      body: '{"n":2}',
    });
    assert.equal(created.status, 201);
    assert.deepEqual(await contract.expect(created, "/v1/{service}/{path}", "post", "default"), {
      n: 2,
    });
  });

  test(
    "a meta worker's 204 or 205 reaches the client with no content and no Content-Length beyond 0 (RFC 9110)",
    async () => {
      const noContent = await fetch(`${gw.url}/v1/meta/items/204`, {
        method: "DELETE",
        body: "gone",
      });
      assert.equal(noContent.status, 204);
      assert.equal(
        noContent.headers.get("content-length"),
        null,
        "a 204 must not carry Content-Length",
      );
      await contract.expect(noContent, "/v1/{service}/{path}", "delete", "default");
      const reset = await fetch(`${gw.url}/v1/meta/form/205`, { method: "POST", body: "reset" });
      assert.equal(reset.status, 205);
      assert.ok([null, "0"].includes(reset.headers.get("content-length")), "a 205 has no content");
      await reset.arrayBuffer();
    },
  );

  test("an unknown service is a 404 UNKNOWN_SERVICE problem", async () => {
    const response = await fetch(`${gw.url}/v1/nosuch/x`, { method: "PATCH", body: "x" });
    const problem = (await contract.expect(response, "/v1/{service}/{path}", "patch")) as Json;
    assert.equal(problem.code, "UNKNOWN_SERVICE");
    assert.equal(problem.type, "urn:zmq-gateway:problem:unknown-service");
    assert.equal(problem.title, errorCodes.UNKNOWN_SERVICE);
    assert.equal(problem.instance, "/v1/nosuch/x");
    assert.equal(problem.requestId, response.headers.get("x-request-id"));
  });

  test("a service with no worker is a 503 NO_WORKER problem with Retry-After", async () => {
    const response = await fetch(`${gw.url}/v1/empty`);
    assert.equal(response.headers.get("retry-after"), "1");
    const problem = (await contract.expect(response, "/v1/{service}", "get")) as Json;
    assert.equal(problem.code, "NO_WORKER");
  });

  test("a worker slower than Request-Timeout: 50ms is a 504 TIMEOUT problem", async () => {
    const response = await fetch(`${gw.url}/v1/slow`, {
      method: "POST",
      body: "x",
      headers: { "request-timeout": "50ms" },
    });
    const problem = (await contract.expect(response, "/v1/{service}", "post")) as Json;
    assert.equal(problem.code, "TIMEOUT");
    releaseSlow();
  });

  test("a plain worker that replies with two frames is a 502 BAD_REPLY problem", async () => {
    const response = await fetch(`${gw.url}/v1/twoframes`, { method: "DELETE" });
    const problem = (await contract.expect(response, "/v1/{service}", "delete")) as Json;
    assert.equal(problem.code, "BAD_REPLY");
  });

  test("a body over maxBodyBytes is a 413 BODY_TOO_LARGE problem", async () => {
    const response = await fetch(`${gw.url}/v1/plain`, { method: "POST", body: "x".repeat(17) });
    const problem = (await contract.expect(response, "/v1/{service}", "post")) as Json;
    assert.equal(problem.code, "BODY_TOO_LARGE");
  });

  test("a malformed Request-Timeout is a 400 BAD_REQUEST problem", async () => {
    const response = await fetch(`${gw.url}/v1/plain`, {
      method: "POST",
      body: "x",
      headers: { "request-timeout": "soon" },
    });
    const problem = (await contract.expect(response, "/v1/{service}", "post")) as Json;
    assert.equal(problem.code, "BAD_REQUEST");
  });

  test("/healthz answers on both listeners", async () => {
    assert.deepEqual(await contract.expect(await fetch(`${gw.url}/healthz`), "/healthz", "get"), {
      status: "ok",
    });
    assert.deepEqual(
      await contract.expect(await fetch(`${gw.adminUrl}/healthz`), "/healthz", "get"),
      { status: "ok" },
    );
  });

  test("/readyz is 200 when no required service lacks a worker", async () => {
    const response = await fetch(`${gw.url}/readyz`);
    assert.equal(response.status, 200);
    assert.deepEqual(await contract.expect(response, "/readyz", "get"), { status: "ready" });
  });

  test("/readyz is 503 and names the required service that has no worker", async () => {
    const lonely = await startGateway({
      log: { level: "silent" },
      services: { needed: { required: true } },
    });
    try {
      const response = await fetch(`${lonely.url}/readyz`);
      assert.equal(response.status, 503);
      const body = (await contract.expect(response, "/readyz", "get")) as Json;
      assert.equal(body.status, "not ready");
      assert.deepEqual(body.services, ["needed"]);
    } finally {
      await lonely.stop();
    }
  });

  test("GET /admin/services describes every service, worker and counter as documented", async () => {
    const body = (await contract.expect(
      await fetch(`${gw.adminUrl}/admin/services`),
      "/admin/services",
      "get",
    )) as {
      services: { name: string; frontend: string | null; workers: { joined: string }[] }[];
    };
    assert.deepEqual(
      body.services.map((service) => service.name),
      ["plain", "meta", "twoframes", "slow", "empty", "spare", "door"],
    );
    const door = body.services.find((service) => service.name === "door");
    assert.match(door?.frontend ?? "", /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(door?.workers[0]?.joined, "connect-in");
  });

  test("registering a worker is a 201 with Location, and removing it a 204 then a 404", async () => {
    const registered = await fetch(`${gw.adminUrl}/admin/services/spare/workers`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ endpoint: spare.endpoint, meta: false }),
    });
    assert.equal(registered.status, 201);
    const location = registered.headers.get("location");
    const worker = (await contract.expect(
      registered,
      "/admin/services/{service}/workers",
      "post",
    )) as { id: string; endpoint: string; mode: string };
    assert.deepEqual(
      { endpoint: worker.endpoint, mode: worker.mode },
      { endpoint: spare.endpoint, mode: "plain" },
    );
    assert.equal(location, `/admin/services/spare/workers/${worker.id}`);

    await gw.waitForWorkers("spare", 1);
    const call = await fetch(`${gw.url}/v1/spare`, { method: "POST", body: "via admin" });
    assert.equal(await contract.expect(call, "/v1/{service}", "post"), "via admin");

    const removed = await fetch(`${gw.adminUrl}${location}`, { method: "DELETE" });
    assert.equal(removed.status, 204);
    await contract.expect(removed, "/admin/services/{service}/workers/{id}", "delete");
    const again = await fetch(`${gw.adminUrl}${location}`, { method: "DELETE" });
    assert.equal(
      ((await contract.expect(again, "/admin/services/{service}/workers/{id}", "delete")) as Json)
        .code,
      "NOT_FOUND",
    );
  });

  test("registering a worker with a bad endpoint or a body that is not JSON is a 400 problem", async () => {
    const url = `${gw.adminUrl}/admin/services/spare/workers`;
    const badEndpoint = await fetch(url, {
      method: "POST",
      body: JSON.stringify({ endpoint: "http://127.0.0.1:5555" }),
    });
    assert.equal(badEndpoint.status, 400);
    assert.equal(
      ((await contract.expect(badEndpoint, "/admin/services/{service}/workers", "post")) as Json)
        .code,
      "INVALID_ENDPOINT",
    );
    const notJson = await fetch(url, { method: "POST", body: "endpoint=tcp://127.0.0.1:5555" });
    assert.equal(notJson.status, 400);
    assert.equal(
      ((await contract.expect(notJson, "/admin/services/{service}/workers", "post")) as Json).code,
      "BAD_REQUEST",
    );
  });

  test("the admin API answers 404 UNKNOWN_SERVICE for a service it does not know", async () => {
    const post = await fetch(`${gw.adminUrl}/admin/services/nosuch/workers`, {
      method: "POST",
      body: JSON.stringify({ endpoint: spare.endpoint }),
    });
    assert.equal(
      ((await contract.expect(post, "/admin/services/{service}/workers", "post")) as Json).code,
      "UNKNOWN_SERVICE",
    );
    const remove = await fetch(`${gw.adminUrl}/admin/services/nosuch/workers/w1`, {
      method: "DELETE",
    });
    assert.equal(
      ((await contract.expect(remove, "/admin/services/{service}/workers/{id}", "delete")) as Json)
        .code,
      "UNKNOWN_SERVICE",
    );
  });
});
