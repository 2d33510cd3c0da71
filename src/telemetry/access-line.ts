/**
 * The access line as UTF-8 bytes, encoded straight into the log buffer (line-buffer.ts):
 * byte for byte the line access-log.ts builds as a string (a test compares the two), without
 * the string. The constant pieces are encoded once; the time field once per millisecond;
 * numbers are written digit by digit (a fresh double's `toString` goes through V8's runtime).
 *
 * Only records whose strings need no JSON escaping take this form: a path or service name
 * with a quote, a backslash, a control character or anything outside printable ASCII makes
 * `maxBytes` return -1, and the caller writes the string form (rare, and exact either way).
 * The other strings are trusted as the string form trusts them (see access-log.ts): the
 * method is an HTTP token, the request id matches /^[\w\-=]+$/ or is a UUID, the worker and
 * trace ids are the gateway's own; all of them ASCII.
 */
import type { AccessRecord } from "./access-log.js";
import { cachedIsoTime } from "./logger.js";

/** Printable ASCII but `"` and `\`: JSON.stringify only adds the quotes. */
const NEEDS_NO_ESCAPE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/** Bytes of a line besides its variable strings: constants, time, status and duration. */
const FIXED_BYTES = 320;
/** Durations from here up take the string form (JavaScript writes 1e21 and up as 1e+21). */
const MAX_DURATION_MS = 1e12;

const ascii = (text: string): Buffer => Buffer.from(text, "latin1");

const HEAD = ascii(`{"level":"info"`);
const TRACE_ID = ascii(`,"trace_id":"`);
const SPAN_ID = ascii(`","span_id":"`);
const METHOD_AFTER_TRACE = ascii(`","event":"access","method":"`);
const METHOD = ascii(`,"event":"access","method":"`);
const PATH = ascii(`","path":"`);
const SERVICE = ascii(`","service":"`);
const STATUS = ascii(`","status":`);
const DURATION = ascii(`,"durationMs":`);
const REQUEST_ID = ascii(`,"request_id":"`);
const WORKER = ascii(`","worker":"`);
const END = ascii(`","msg":"request"}\n`);

const DOT = 0x2e;
const ZERO = 0x30;

function put(bytes: Buffer, at: number, piece: Buffer): number {
  bytes.set(piece, at);
  return at + piece.length;
}

/** A non-negative integer below 2^53, in decimal. */
function putInteger(bytes: Buffer, at: number, value: number): number {
  if (value >= 10) at = putInteger(bytes, at, Math.floor(value / 10));
  bytes[at] = ZERO + (value % 10);
  return at + 1;
}

/** `String(ms)` for a number with at most three decimals (the record's rounding), 0 <= ms < 1e12. */
function putMilliseconds(bytes: Buffer, at: number, ms: number): number {
  const micros = Math.round(ms * 1000);
  const whole = Math.floor(micros / 1000);
  let fraction = micros - whole * 1000;
  at = putInteger(bytes, at, whole);
  if (fraction === 0) return at;
  bytes[at++] = DOT;
  for (let unit = 100; fraction > 0; unit /= 10) {
    const digit = Math.floor(fraction / unit);
    bytes[at++] = ZERO + digit;
    fraction -= digit * unit;
  }
  return at;
}

export class AccessLineEncoder {
  /** The logger's bindings (`,"name":"zmq-gateway"` and any child's), encoded once. */
  private readonly bindings: Buffer;
  private readonly time = Buffer.alloc(64);
  private timeLength = 0;
  private timeText = "";

  constructor(bindings: string) {
    this.bindings = Buffer.from(bindings, "utf8");
  }

  /**
   * The most bytes `encode` may write for `record`, or -1 when the record takes the string
   * form (a string that needs escaping, a duration the digits below do not cover).
   */
  maxBytes(record: AccessRecord): number {
    if (!NEEDS_NO_ESCAPE.test(record.path)) return -1;
    if (record.service !== undefined && !NEEDS_NO_ESCAPE.test(record.service)) return -1;
    const { status, durationMs } = record;
    if (!Number.isInteger(status) || status < 0 || status > 999 || !(durationMs >= 0 && durationMs < MAX_DURATION_MS)) return -1;
    return (
      FIXED_BYTES +
      this.bindings.length +
      record.method.length +
      record.path.length +
      (record.service?.length ?? 0) +
      record.requestId.length +
      (record.worker?.length ?? 0) +
      (record.traceId?.length ?? 0) +
      (record.spanId?.length ?? 0)
    );
  }

  /** Writes the line for `record` (which `maxBytes` accepted) at `at`; returns where it ends. */
  encode(bytes: Buffer, at: number, record: AccessRecord): number {
    at = put(bytes, at, HEAD);
    const time = cachedIsoTime();
    if (time !== this.timeText) {
      this.timeText = time;
      this.timeLength = this.time.write(time, 0, "latin1");
    }
    bytes.set(this.time.subarray(0, this.timeLength), at);
    at += this.timeLength;
    at = put(bytes, at, this.bindings);
    if (record.traceId) {
      at = put(bytes, at, TRACE_ID);
      at += bytes.write(record.traceId, at, "latin1");
      at = put(bytes, at, SPAN_ID);
      if (record.spanId) at += bytes.write(record.spanId, at, "latin1");
      at = put(bytes, at, METHOD_AFTER_TRACE);
    } else {
      at = put(bytes, at, METHOD);
    }
    at += bytes.write(record.method, at, "latin1");
    at = put(bytes, at, PATH);
    at += bytes.write(record.path, at, "latin1");
    if (record.service !== undefined) {
      at = put(bytes, at, SERVICE);
      at += bytes.write(record.service, at, "latin1");
    }
    at = put(bytes, at, STATUS);
    at = putInteger(bytes, at, record.status);
    at = put(bytes, at, DURATION);
    at = putMilliseconds(bytes, at, record.durationMs);
    at = put(bytes, at, REQUEST_ID);
    at += bytes.write(record.requestId, at, "latin1");
    if (record.worker !== undefined) {
      at = put(bytes, at, WORKER);
      at += bytes.write(record.worker, at, "latin1");
    }
    return put(bytes, at, END);
  }
}
