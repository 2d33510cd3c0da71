/**
 * Wire protocol v1 between the gateway and its REP workers. Drawn here once; see
 * docs/protocol.md for the prose.
 *
 *   gateway DEALER  ->  worker REP          REP strips everything up to and including
 *   +----------------+-------+------+--------+    the empty delimiter (the envelope) and
 *   | correlation id | empty | body | [meta] |    hands the rest to the worker:
 *   +----------------+-------+------+--------+      plain: [body]   meta: [body, meta]
 *        16 bytes      0 B
 *
 *   worker REP  ->  gateway DEALER          REP puts the envelope back in front:
 *   +----------------+-------+------+-------------+
 *   | correlation id | empty | body | [replyMeta] |   plain: exactly [body]
 *   +----------------+-------+------+-------------+   meta:  [body] or [body, replyMeta]
 *
 * Correlation id: 8 random bytes chosen once per gateway process (the instance), then a
 * 64-bit big-endian counter. A reply whose instance differs (from before a restart) or
 * whose counter is not pending (late, after a timeout) is dropped and counted; it can
 * never be matched to another request.
 */
import { randomBytes } from "node:crypto";

export const PROTOCOL_VERSION = 1;
export const EMPTY_FRAME: Buffer = Buffer.alloc(0);
export const CORRELATION_ID_BYTES = 16;

/** Makes and reads correlation ids for one gateway process. */
export class CorrelationIds {
  readonly instance: Buffer;
  private counter = 0;

  constructor(instance: Buffer = randomBytes(8)) {
    if (instance.length !== 8) throw new RangeError("instance must be 8 bytes");
    this.instance = instance;
  }

  /** A fresh id and its key: the number a worker finds the attempt by. Keys only grow. */
  next(): { id: Buffer; key: number } {
    const key = ++this.counter;
    const id = Buffer.allocUnsafe(CORRELATION_ID_BYTES);
    this.instance.copy(id, 0);
    id.writeUInt32BE(Math.floor(key / 0x1_0000_0000), 8);
    id.writeUInt32BE(key >>> 0, 12);
    return { id, key };
  }

  /** The pending-map key of a reply's id, or undefined when it is not one of ours. */
  keyOf(id: Buffer | undefined): number | undefined {
    if (!id || id.length !== CORRELATION_ID_BYTES) return undefined;
    if (id.compare(this.instance, 0, 8, 0, 8) !== 0) return undefined;
    return id.readUInt32BE(8) * 0x1_0000_0000 + id.readUInt32BE(12);
  }
}

/** [id, empty, ...payload]: what the gateway DEALER sends. */
export function encodeRequest(id: Buffer, payload: readonly Buffer[]): Buffer[] {
  const frames = [id, EMPTY_FRAME];
  for (const frame of payload) frames.push(frame);
  return frames;
}

/**
 * Splits a frame list received on the gateway DEALER into correlation id and payload.
 * Undefined when the envelope is not [id, empty, ...] (a worker that is not REP-shaped).
 */
export function splitReply(frames: readonly Buffer[]): { id: Buffer; payload: Buffer[] } | undefined {
  const [id, delimiter] = frames;
  if (!id || !delimiter || delimiter.length !== 0) return undefined;
  return { id, payload: frames.slice(2) };
}
