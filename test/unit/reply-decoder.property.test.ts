/**
 * Property tests of everything a worker's reply goes through before it becomes HTTP:
 * splitReply (envelope), CorrelationIds.keyOf (whose request is it) and decodeReply
 * (frames and reply meta). Whatever the bytes, the result is clean or a reason; it never
 * throws, and a clean result can always be written by Node's HTTP server.
 */
import assert from "node:assert/strict";
import { validateHeaderName, validateHeaderValue } from "node:http";
import { describe, test } from "node:test";
import fc from "fast-check";
import { CORRELATION_ID_BYTES, CorrelationIds, splitReply } from "../../src/protocol/frames.js";
import { REQUEST_META_KIND } from "../../src/protocol/meta.js";
import { decodeReply, type DecodedReply, type RejectedReply } from "../../src/protocol/reply.js";

const NUM_RUNS = 2_000;
/** A fixed seed makes a failure reproducible; FC_SEED overrides it to explore. */
const SEED = Number(process.env.FC_SEED ?? 20_260_127);
const run = { numRuns: NUM_RUNS, seed: SEED };

const FORBIDDEN = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "content-length",
  "x-request-id",
  "date",
  "server",
];
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

/** Checks one decodeReply result against the contract; throws (with the input) when broken. */
function assertClean(
  result: DecodedReply | RejectedReply,
  payload: readonly Buffer[],
  allowSetCookie: boolean,
): void {
  if (!result.ok) {
    assert.equal(typeof result.reason, "string");
    assert.ok(result.reason.length > 0, "a rejection says why");
    return;
  }
  assert.ok(
    Number.isInteger(result.status) && result.status >= 200 && result.status <= 599,
    `status ${result.status}`,
  );
  assert.equal(result.body, payload[0], "the body is the first frame, untouched");
  for (const [name, value] of Object.entries(result.headers)) {
    assert.match(name, TOKEN, "names are lower-case tokens");
    assert.ok(!FORBIDDEN.includes(name), `${name} is never passed on`);
    if (!allowSetCookie) assert.notEqual(name, "set-cookie");
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      assert.equal(typeof item, "string");
      assert.doesNotMatch(item, /[\r\n\0]/, "no header injection");
      // What node:http would do with it when the response is written: it must not throw.
      validateHeaderValue(name, item);
    }
    validateHeaderName(name);
    new Headers().set(name, values.join(", "));
  }
}

function decodeChecked(
  payload: Buffer[],
  mode: "plain" | "meta",
  allowSetCookie: boolean,
): DecodedReply | RejectedReply {
  let result: DecodedReply | RejectedReply;
  try {
    result = decodeReply(payload, mode, { allowSetCookie });
  } catch (error) {
    assert.fail(`decodeReply threw: ${String(error)}`);
  }
  assertClean(result, payload, allowSetCookie);
  return result;
}

const buffer = (maxLength: number, minLength = 0) =>
  fc.uint8Array({ minLength, maxLength }).map((bytes) => Buffer.from(bytes));
const frames = fc.array(
  fc.oneof({ weight: 4, arbitrary: buffer(64) }, { weight: 1, arbitrary: buffer(4_096) }),
  { maxLength: 6 },
);
const mode = fc.constantFrom("plain" as const, "meta" as const);

/** Strings with the characters that matter in headers: controls, CR/LF/NUL, latin-1, beyond, lone surrogates. */
const nastyChar = fc.oneof(
  fc.constantFrom(
    "\r",
    "\n",
    "\0",
    "\t",
    " ",
    "\x01",
    "\x7f",
    "\x80",
    "é",
    "ÿ",
    "Ā",
    "€",
    "😀",
    "\ud800",
    ":",
    ";",
    ",",
    '"',
  ),
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
);
const nastyString = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: nastyChar, maxLength: 12 }),
);
const headerName = fc.oneof(
  fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,20}$/),
  fc.constantFrom(
    ...FORBIDDEN,
    "Set-Cookie",
    "set-cookie",
    "Content-Type",
    "LOCATION",
    "__proto__",
    "constructor",
    "toString",
    "hasOwnProperty",
    "x-worker",
  ),
  fc.constantFrom(...FORBIDDEN).chain((name) => fc.mixedCase(fc.constant(name))),
  fc.constantFrom("", " ", "a b", "x:y", "x\r\ny", "é", "a\0", "(x)", "x/y"),
  nastyString,
);
const headerValue = fc.oneof(
  nastyString,
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 1e21, Number.MAX_SAFE_INTEGER, 2 ** 64),
  fc.array(nastyString, { maxLength: 3 }),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.jsonValue({ maxDepth: 2 }),
);
const status = fc.oneof(
  fc.integer({ min: 100, max: 700 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(
    199,
    200,
    204,
    304,
    599,
    600,
    200.5,
    -0,
    1e21,
    2 ** 53,
    "200",
    null,
    true,
    [200],
    { code: 200 },
  ),
);
/** Reply meta as a worker might write it: mostly the right shape, often subtly wrong. */
const replyMeta = fc.oneof(
  fc.record(
    {
      status,
      headers: fc.oneof(
        fc.dictionary(headerName, headerValue, { maxKeys: 6 }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      kind: fc.constantFrom(REQUEST_META_KIND, "zmq-gateway.reply", 1),
      extra: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 3 }),
  fc.object({ maxDepth: 2 }),
  fc.anything({ maxDepth: 2 }).map((value) => {
    try {
      return JSON.parse(JSON.stringify(value) ?? "null") as unknown;
    } catch {
      return null;
    }
  }),
);
/** The meta frame as bytes: JSON text, sometimes damaged or not UTF-8. */
const metaFrame = fc.oneof(
  { weight: 6, arbitrary: replyMeta.map((meta) => Buffer.from(JSON.stringify(meta) ?? "null")) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(replyMeta, buffer(4))
      .map(([meta, junk]) => Buffer.concat([Buffer.from(JSON.stringify(meta) ?? ""), junk])),
  },
  { weight: 1, arbitrary: buffer(32) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Buffer.from([0xff, 0xfe]),
      Buffer.from('{"status":200,"headers":{"x":"\xff"}}', "latin1"),
      Buffer.from("\ufeff{}"),
      Buffer.alloc(0),
      Buffer.from("[]"),
      Buffer.from("1e999"),
    ),
  },
);

describe("reply decoding under random input", () => {
  test("any frames in either mode give a clean reply or a reason, never an exception", () => {
    fc.assert(
      fc.property(frames, mode, fc.boolean(), (payload, workerMode, allowSetCookie) => {
        const result = decodeChecked(payload, workerMode, allowSetCookie);
        if (workerMode === "plain")
          assert.equal(result.ok, payload.length === 1, "plain: exactly one frame is accepted");
        if (workerMode === "meta" && (payload.length === 0 || payload.length > 2))
          assert.equal(result.ok, false);
      }),
      run,
    );
  });

  test("random reply meta, valid-looking or not, gives a status in 200..599 and safe headers, or a reason", () => {
    fc.assert(
      fc.property(buffer(16), metaFrame, fc.boolean(), (body, meta, allowSetCookie) => {
        decodeChecked([body, meta], "meta", allowSetCookie);
      }),
      run,
    );
  });

  test("well-formed reply meta is accepted with exactly the headers that may pass", () => {
    const safeValue = fc.stringMatching(/^[\x20-\x7e\t]{0,16}$/);
    const wellFormed = fc.record({
      status: fc.integer({ min: 200, max: 599 }),
      headers: fc.dictionary(
        fc.oneof(
          fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/),
          fc.constantFrom(...FORBIDDEN, "Set-Cookie"),
        ),
        fc.oneof(safeValue, fc.array(safeValue, { maxLength: 3 }), fc.integer()),
        {
          maxKeys: 6,
        },
      ),
    });
    fc.assert(
      fc.property(wellFormed, fc.boolean(), ({ status: code, headers }, allowSetCookie) => {
        const result = decodeChecked(
          [Buffer.from("b"), Buffer.from(JSON.stringify({ status: code, headers }))],
          "meta",
          allowSetCookie,
        );
        assert.ok(result.ok, JSON.stringify(result));
        assert.equal(result.status, code);
        const expected: Record<string, string | string[]> = {};
        for (const [rawName, value] of Object.entries(headers)) {
          const name = rawName.toLowerCase();
          if (FORBIDDEN.includes(name) || (name === "set-cookie" && !allowSetCookie)) continue;
          expected[name] = typeof value === "number" ? String(value) : value;
        }
        assert.deepEqual({ ...result.headers }, expected);
      }),
      run,
    );
  });
});

describe("correlation ids and envelopes under random input", () => {
  test("splitReply takes [id, empty, ...payload] and nothing else, and never throws", () => {
    const envelopeLike = fc.oneof(
      frames,
      fc.tuple(buffer(20), frames).map(([id, rest]) => [id, Buffer.alloc(0), ...rest]),
    );
    fc.assert(
      fc.property(envelopeLike, (list) => {
        const split = splitReply(list);
        const shaped = list.length >= 2 && list[1]!.length === 0;
        assert.equal(split !== undefined, shaped);
        if (split) {
          assert.equal(split.id, list[0]);
          assert.deepEqual(split.payload, list.slice(2));
        }
      }),
      run,
    );
  });

  test("keyOf finds every id the gateway made and no other id of the wrong length or instance", () => {
    fc.assert(
      fc.property(
        buffer(8, 8),
        fc.integer({ min: 1, max: 50 }),
        buffer(40),
        (instance, count, junk) => {
          const ids = new CorrelationIds(instance);
          const issued = Array.from({ length: count }, () => ids.next());
          for (const { id, key } of issued) assert.equal(ids.keyOf(id), key);
          if (junk.length !== CORRELATION_ID_BYTES) assert.equal(ids.keyOf(junk), undefined);
          else if (!junk.subarray(0, 8).equals(instance)) assert.equal(ids.keyOf(junk), undefined);
          assert.equal(ids.keyOf(undefined), undefined);
        },
      ),
      run,
    );
  });

  test("a forged id with the right instance matches a request only when it is that request's id byte for byte", () => {
    const ids = new CorrelationIds();
    const issued = Array.from({ length: 200 }, () => ids.next());
    const byKey = new Map(issued.map(({ id, key }) => [key, id]));
    const counterBytes = fc.oneof(
      buffer(8, 8),
      fc.integer({ min: 0, max: 400 }).map((n) => {
        const b = Buffer.alloc(8);
        b.writeUInt32BE(n, 4);
        return b;
      }),
      fc.constantFrom(
        Buffer.alloc(8, 0xff),
        Buffer.from([0, 0x20, 0, 0, 0, 0, 0, 1]),
        Buffer.from([0, 0, 0, 1, 0, 0, 0, 1]),
      ),
    );
    fc.assert(
      fc.property(counterBytes, (counter) => {
        const forged = Buffer.concat([ids.instance, counter]);
        let key: number | undefined;
        assert.doesNotThrow(() => (key = ids.keyOf(forged)));
        assert.ok(key !== undefined && Number.isInteger(key) && key >= 0);
        const real = byKey.get(key);
        if (real)
          assert.ok(
            real.equals(forged),
            `${forged.toString("hex")} was taken for ${real.toString("hex")}`,
          );
      }),
      run,
    );
  });

  test("the whole path from raw frames to an HTTP-ready reply never throws", () => {
    const ids = new CorrelationIds();
    const { id } = ids.next();
    const message = fc.oneof(
      frames,
      fc
        .tuple(frames, metaFrame)
        .map(([rest, meta]) => [id, Buffer.alloc(0), ...rest.slice(0, 1), meta]),
      fc.tuple(buffer(16), frames).map(([other, rest]) => [other, Buffer.alloc(0), ...rest]),
    );
    fc.assert(
      fc.property(message, mode, fc.boolean(), (list, workerMode, allowSetCookie) => {
        const split = splitReply(list);
        const key = ids.keyOf(split?.id);
        if (split && key !== undefined) decodeChecked(split.payload, workerMode, allowSetCookie);
      }),
      run,
    );
  });
});
