/**
 * Random HTTP against a running gateway: well-formed requests with odd methods, paths,
 * headers and bodies through node:http, and malformed or ambiguous ones through raw
 * sockets. The worker records what it receives and marks each reply, so a request that was
 * refused can be shown never to have reached it. Inputs come from fast-check with a fixed
 * seed (FC_SEED overrides it), so a failure can be replayed.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { connect } from "node:net";
import { describe, test } from "node:test";
import fc from "fast-check";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { assertAtRest } from "../helpers/invariants.js";
import { startWorker, type InProcessWorker } from "../helpers/workers.js";

const SEED = Number(process.env.FC_SEED ?? 20_260_127);
const HTTP_CASES = 400;
const RAW_CASES = 200;
const CONCURRENCY = 8;
const MARK = "x-worker-seen";

interface Outcome {
  /** The responses read on the connection; status 0 when none came (closed or reset). */
  responses: { status: number; mark: string | undefined }[];
  what: string;
}

/** Runs `jobs` with at most `limit` under way. */
async function inBatches<T, R>(
  items: readonly T[],
  limit: number,
  job: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await job(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
  return results;
}

// ---- well-formed requests through node:http ----

const segment = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~-]{1,8}$/),
  fc.constantFrom(
    "..",
    ".",
    "%2e%2e",
    "%2E",
    "%2F",
    "%2f..%2f",
    "%00",
    "%ZZ",
    "%",
    "%C3%A9",
    "%E2%82%AC",
    "%FF",
    ";x=1",
    "a%20b",
    "~user",
    "x".repeat(3_000),
    "",
    "@",
    ":",
    "!$&'()*+,=",
  ),
);
const pathPrefix = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("/v1/echo", "/v1/tiny", "/v1/echo/", "/v1/%65cho") },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "/v1/nope",
      "/v1",
      "/v1/",
      "/",
      "/healthz",
      "/readyz",
      "/v2/echo",
      "/V1/echo",
      "//v1/echo",
      "/v1/ECHO",
      "/v1/echo%2F..",
      "/v1/..%2Fhealthz",
    ),
  },
);
const path = fc
  .tuple(
    pathPrefix,
    fc.array(segment, { maxLength: 4 }),
    fc.option(
      fc.constantFrom(
        "?a=1",
        "?",
        "?%ZZ",
        "?a=1&a=2&b",
        "?x=" + "y".repeat(500),
        "?#",
        "?q=%0d%0a",
      ),
      { nil: undefined },
    ),
  )
  .map(
    ([prefix, segments, query]) =>
      `${prefix}${segments.length ? `/${segments.join("/")}` : ""}${query ?? ""}`,
  );
const method = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "PROPFIND",
      "MKCOL",
      "PURGE",
      "LINK",
      "SEARCH",
      "QUERY",
      "M-SEARCH",
      "REPORT",
      "TRACE",
    ),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z!#$%&'*+.^_`|~-]{1,10}$/) },
);
const printable = fc.stringMatching(/^[\x20-\x7e]{0,40}$/);
const headerPair = fc.oneof(
  fc.tuple(
    fc.constant("content-type"),
    fc.constantFrom(
      "application/json",
      "text/plain; charset=utf-8",
      "",
      "multipart/form-data; boundary=x",
      "a".repeat(300),
    ),
  ),
  fc.tuple(fc.constant("accept"), printable),
  fc.tuple(fc.constant("x-tenant"), printable),
  fc.tuple(
    fc.constant("request-timeout"),
    fc.constantFrom(
      "2s",
      "1500ms",
      "5000",
      "99999999999999",
      " 2s ",
      "abc",
      "-1",
      "0",
      "0.1ms",
      "1e3",
      "",
      "1.5.5s",
    ),
  ),
  fc.tuple(fc.constant("idempotency-key"), printable),
  fc.tuple(fc.constantFrom("authorization", "cookie", "proxy-authorization"), printable),
  fc.tuple(fc.constantFrom("traceparent", "tracestate", "baggage"), printable),
  fc.tuple(fc.constant("expect"), fc.constantFrom("100-continue", "100-continue", "200-ok")),
  fc.tuple(
    fc.constant("connection"),
    fc.constantFrom("close", "keep-alive", "upgrade", "te, close"),
  ),
  fc.tuple(fc.constant("upgrade"), fc.constantFrom("websocket", "h2c")),
  fc.tuple(
    fc.constantFrom("te", "trailer", "keep-alive", "x-forwarded-for", "forwarded", "via"),
    printable,
  ),
  fc.tuple(fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,24}$/), printable),
  fc.tuple(fc.constant("x-big"), fc.constantFrom("a".repeat(4_000), "b".repeat(10_000))),
);
const body = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 1_900, maxLength: 2_200 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 4_000, maxLength: 5_000 }) },
);
const httpCase = fc.record({
  method,
  path,
  headers: fc.array(headerPair, { maxLength: 4 }),
  body,
  chunked: fc.boolean(),
});
type HttpCase = typeof httpCase extends fc.Arbitrary<infer T> ? T : never;

function sendHttp(port: number, spec: HttpCase, id: string): Promise<Outcome | undefined> {
  const what = `${id} ${spec.method} ${spec.path.slice(0, 80)} ${JSON.stringify(spec.headers).slice(0, 200)} body=${spec.body?.length ?? "none"}${spec.chunked ? " chunked" : ""}`;
  return new Promise((resolve) => {
    // An object (not raw pairs), so node:http still adds Host and the framing headers.
    const headers = Object.create(null) as Record<string, string[]>; // names such as "constructor" too
    for (const [name, value] of spec.headers) (headers[name.toLowerCase()] ??= []).push(value);
    headers["x-request-id"] = [id];
    let req;
    try {
      req = request(
        {
          host: "127.0.0.1",
          port,
          method: spec.method,
          path: spec.path,
          headers,
          agent: false,
          timeout: 5_000,
        },
        (res) => {
          const mark = res.headers[MARK];
          const responses = [
            { status: res.statusCode ?? 0, mark: typeof mark === "string" ? mark : undefined },
          ];
          res.resume();
          res.on("end", () => resolve({ responses, what }));
          res.on("error", () => resolve({ responses, what }));
        },
      );
    } catch {
      resolve(undefined); // node:http refused to send it (an input its client validates): not a case
      return;
    }
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve({ responses: [{ status: 0, mark: undefined }], what }));
    try {
      if (spec.chunked && spec.body) {
        req.write(spec.body.subarray(0, 10));
        req.end(spec.body.subarray(10));
      } else {
        req.end(spec.body);
      }
    } catch {
      // node:http refused the head when writing it (trailer with the wrong framing...): nothing left
      req.destroy();
      resolve(undefined);
    }
  });
}

// ---- malformed and ambiguous requests through raw sockets ----

const rawMethod = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE", "HEAD") },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "TRACE",
      "CONNECT",
      "PRI",
      "get",
      "Post",
      "",
      "GET GET",
      "G\0T",
      "GE\tT",
      "X".repeat(2_000),
      "PATCH",
      "BREW",
      "M-SEARCH",
    ),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[!-~]{1,8}$/) },
);
const rawTarget = fc.oneof(
  { weight: 4, arbitrary: path },
  fc.constantFrom(
    "*",
    "http://x/v1/echo",
    "https://x:443/v1/echo",
    "//v1/echo",
    "v1/echo",
    "/v1/echo /v1/echo",
    "/v1/\techo",
    "/v1/\x01",
    "/v1/\x7f",
    "/v1/\xe9",
    "",
    "/v1/echo#f",
    `/${"a".repeat(9_000)}`,
    "127.0.0.1:80",
    "/v1/echo\\..\\x",
    "/v1/echo?\x00",
  ),
);
const rawVersion = fc.oneof(
  { weight: 6, arbitrary: fc.constant("HTTP/1.1") },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "HTTP/1.0",
      "HTTP/1.2",
      "HTTP/2.0",
      "HTTP/0.9",
      "http/1.1",
      "HTTP/1.1 x",
      "",
      "HTTP/11",
      "HTTP/1.1\t",
    ),
  },
);
const rawHeaderLine = fc.oneof(
  fc.constantFrom(
    "Content-Length: 4",
    "Content-Length: 0",
    "Content-Length: 100",
    "Content-Length: -1",
    "Content-Length: +4",
    "Content-Length: 4, 4",
    "Content-Length: 0x4",
    "Content-Length: 99999999999999999999",
    "Content-Length:  4 ",
    "Transfer-Encoding: chunked",
    "Transfer-Encoding: Chunked",
    "Transfer-Encoding: chunked, identity",
    "Transfer-Encoding: identity, chunked",
    "Transfer-Encoding: xchunked",
    "Transfer-Encoding:\tchunked",
    "Transfer-Encoding : chunked",
    "X-Fold: a\r\n b",
    "X-Bare: a\nX-After: b",
    "No-Colon",
    ": empty-name",
    "Bad Name: v",
    "X-Nul: a\0b",
    "X-Ctl: a\x01b",
    "X-Latin: \xe9",
    "Host: y",
    "Connection: keep-alive",
    "Expect: 100-continue",
    "Upgrade: websocket",
    "Request-Timeout: 2s",
    "Request-Timeout: nope",
    "Authorization: Bearer x",
    "Cookie: a=b",
  ),
  fc
    .tuple(fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/), fc.stringMatching(/^[\x20-\x7e]{0,30}$/))
    .map(([name, value]) => `${name}: ${value}`),
);
const pipelined = "GET /v1/echo HTTP/1.1\r\nHost: x\r\n\r\n";
const rawBody = fc.oneof(
  fc.constant(""),
  fc.constantFrom(
    "abcd",
    "0\r\n\r\n",
    "4\r\nabcd\r\n0\r\n\r\n",
    "zz\r\nabcd\r\n0\r\n\r\n",
    `0\r\n\r\n${pipelined}`,
    `abcd${pipelined}`,
    pipelined,
    "4\r\nabcd\r\n",
    "ffffffffffffffff\r\n",
  ),
  fc.string({ maxLength: 40 }),
);
const rawCase = fc
  .record({
    method: rawMethod,
    target: rawTarget,
    version: rawVersion,
    host: fc.oneof(
      { weight: 6, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.constant(false) },
    ),
    headers: fc.array(rawHeaderLine, { maxLength: 4 }),
    close: fc.boolean(),
    lineEnd: fc.constantFrom("\r\n", "\r\n", "\r\n", "\n"),
    body: rawBody,
  })
  // Node's server still parses and dispatches a request pipelined behind one whose response
  // closes the connection (Connection: close, HTTP/1.0, Node's own 400 for a missing Host),
  // then never writes its response: a known gap (SECURITY.md), left out here so that the
  // invariant below stays exact.
  .filter(
    (spec) =>
      !spec.body.includes(pipelined) || (!spec.close && spec.host && spec.version === "HTTP/1.1"),
  );
type RawCase = typeof rawCase extends fc.Arbitrary<infer T> ? T : never;

function rawBytes(spec: RawCase, id: string): Buffer {
  const lines = [
    `${spec.method} ${spec.target} ${spec.version}`.trimEnd(),
    ...(spec.host ? ["Host: x"] : []),
    ...spec.headers,
    `X-Request-Id: ${id}`,
    ...(spec.close ? ["Connection: close"] : []),
  ];
  return Buffer.from(
    `${lines.join(spec.lineEnd)}${spec.lineEnd}${spec.lineEnd}${spec.body}`,
    "latin1",
  );
}

/** Writes the bytes and reads until the server closes (or 3 s pass: an incomplete request). */
function sendRaw(port: number, spec: RawCase, id: string): Promise<Outcome> {
  const bytes = rawBytes(spec, id);
  const what = `${id} ${JSON.stringify(bytes.toString("latin1").slice(0, process.env.FUZZ_DEBUG ? 100_000 : 300))}`;
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), 3_000);
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      // One piece per response (pipelined requests get several); bodies here never hold "HTTP/1.".
      const pieces = Buffer.concat(chunks)
        .toString("latin1")
        .split(/(?=HTTP\/1\.[01] \d{3} )/)
        .filter((piece) => piece.startsWith("HTTP/1."));
      const responses = pieces.map((piece) => ({
        status: Number(piece.slice(9, 12)),
        mark: new RegExp(`\\r\\n${MARK}: ([^\\r]*)\\r\\n`, "i").exec(
          piece.split("\r\n\r\n")[0]! + "\r\n",
        )?.[1],
      }));
      resolve({ responses: responses.length ? responses : [{ status: 0, mark: undefined }], what });
    });
    socket.write(bytes);
  });
}

// ---- the worker that counts ----

interface CountingWorker extends InProcessWorker {
  /** The request id of every request received, in order. */
  seen: string[];
  /** "METHOD path" of each request id received. */
  described: Map<string, string>;
  problems: string[];
}

/** A meta worker that records each request id and marks its reply with it. */
async function startCountingWorker(): Promise<CountingWorker> {
  const problems: string[] = [];
  const seen: string[] = [];
  const described = new Map<string, string>();
  const worker = await startWorker((frames) => {
    let requestId = "?";
    try {
      const meta = JSON.parse(frames[1]?.toString("utf8") ?? "") as {
        method: string;
        path: string;
        headers: Record<string, string>;
        requestId: string;
      };
      requestId = meta.requestId;
      described.set(requestId, `${meta.method} ${meta.path}`);
      if (!meta.path.startsWith("/")) problems.push(`path ${meta.path}`);
      for (const name of Object.keys(meta.headers))
        if (!["content-type", "accept", "x-tenant"].includes(name))
          problems.push(`header ${name} reached the worker`);
    } catch (error) {
      problems.push(`unreadable meta: ${String(error)}`);
    }
    seen.push(requestId);
    return ["ok", JSON.stringify({ headers: { [MARK]: requestId } })];
  });
  return { ...worker, seen, described, problems };
}

describe("HTTP fuzzing", () => {
  test("random requests never get a 500, never stop the gateway, and only accepted ones reach the worker", async (t) => {
    const worker = await startCountingWorker();
    let gw: TestGateway | undefined;
    try {
      gw = await startGateway({
        http: { host: "127.0.0.1", port: 0, maxHeaderBytes: 8_192, keepAliveTimeoutMs: 200 },
        services: {
          echo: {
            mode: "meta",
            maxBodyBytes: 2_048,
            forwardHeaders: ["x-tenant"],
            workers: [worker.endpoint],
          },
          tiny: { mode: "meta", maxBodyBytes: 8, workers: [worker.endpoint] },
        },
      });
      await gw.waitForWorkers("echo", 1);
      await gw.waitForWorkers("tiny", 1);
      const port = gw.addresses.httpPort;
      const started = performance.now();

      const httpCases = fc
        .sample(httpCase, { numRuns: HTTP_CASES, seed: SEED })
        .map((spec, i) => [spec, `h${i}`] as const);
      const viaHttp = (
        await inBatches(httpCases, CONCURRENCY, ([spec, id]) => sendHttp(port, spec, id))
      ).filter((outcome) => outcome !== undefined);
      const rawCases = fc
        .sample(rawCase, { numRuns: RAW_CASES, seed: SEED })
        .map((spec, i) => [spec, `r${i}`] as const);
      // An incomplete raw case waits out its 3 s cap: run many at once.
      const viaRaw = await inBatches(rawCases, CONCURRENCY * 4, ([spec, id]) =>
        sendRaw(port, spec, id),
      );
      const outcomes = [...viaHttp, ...viaRaw];
      if (process.env.FUZZ_DEBUG)
        for (const { responses, what } of outcomes)
          t.diagnostic(`${responses.map(({ status }) => status).join(",")} ${what}`);

      assert.ok(
        viaHttp.length > HTTP_CASES * 0.8,
        `most node:http cases were sent (${viaHttp.length})`,
      );
      const histogram: Record<number, number> = {};
      for (const { responses } of outcomes)
        for (const { status } of responses) histogram[status] = (histogram[status] ?? 0) + 1;
      const describe = ({ what, responses }: Outcome) =>
        `${responses.map(({ status }) => status).join(",")} ${what}`;
      const errors = outcomes.filter(({ responses }) =>
        responses.some(({ status }) => status >= 500),
      );
      assert.deepEqual(
        errors.map(describe),
        [],
        "no 5xx: the worker is healthy and no input makes the gateway fail",
      );
      assert.equal((await fetch(`${gw.url}/healthz`)).status, 200, "the gateway still answers");

      // Everything the worker received shows up as a marked response, and only on a 2xx.
      await assertAtRest(() => gw!.services(), "echo");
      await assertAtRest(() => gw!.services(), "tiny");
      const responses = outcomes.flatMap((outcome) => outcome.responses);
      const marks = responses.flatMap(({ mark }) => (mark === undefined ? [] : [mark]));
      const unseen = worker.seen.filter((id) => !marks.includes(id));
      const unanswered = outcomes.filter((outcome) =>
        unseen.some((id) => outcome.what.startsWith(`${id} `)),
      );
      assert.deepEqual(
        unanswered.map(describe),
        [],
        "every request the worker got was answered to its client with the worker's reply",
      );
      // Pipelined requests carry no id of ours (a UUID then): named by method and path.
      assert.deepEqual(
        unseen.map((id) => `${id} ${worker.described.get(id)}`),
        [],
        "no request reached the worker without its reply reaching the client",
      );
      assert.deepEqual(
        [...marks].sort(),
        [...worker.seen].sort(),
        "worker receipts = marked responses",
      );
      assert.deepEqual(
        responses.filter(
          ({ status, mark }) => mark !== undefined && (status < 200 || status > 299),
        ),
        [],
        "a marked response is a 2xx",
      );
      assert.ok(marks.length > 50, `a good share of the requests were accepted (${marks.length})`);
      assert.ok(
        responses.filter(({ status }) => status >= 400 && status < 500).length > 50,
        "and a good share refused",
      );
      assert.deepEqual(
        worker.problems,
        [],
        "only allowed headers, and well-formed meta, reached the worker",
      );

      const logged = gw.logs.filter(
        (line) =>
          (line.event === "access" && (line.status as number) >= 500) ||
          line.msg === "unhandled error",
      );
      assert.deepEqual(logged, [], "no 500 in the access log, not even for clients that went away");
      const elapsedMs = Math.round(performance.now() - started);
      t.diagnostic(
        `${viaHttp.length} node:http and ${viaRaw.length} raw cases in ${elapsedMs} ms; statuses ${JSON.stringify(histogram)}; ${marks.length} reached the worker`,
      );
      assert.ok(elapsedMs < 20_000, `bounded in time (${elapsedMs} ms)`);
    } finally {
      await gw?.stop();
      worker.close();
    }
  });
});
