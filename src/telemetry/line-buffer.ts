/**
 * The log's memory buffer: lines collect as UTF-8 bytes in one chunk, and the chunk goes to
 * the sink in one write once it holds the limit, as nginx's `buffer=` does for its access
 * log. pino's lines arrive as strings and are encoded into the chunk; the access line is
 * encoded straight into it (`room()`/`commit()`, see access-line.ts), with no string built,
 * joined and encoded again on its way out.
 *
 * Why bytes: built as a string (a template's pieces, flattened, joined with the other lines,
 * the join encoded again), the access line was 8-18% of the gateway's CPU per request;
 * encoded in place it is about 7%, and the gateway spends 2.5% less CPU per request
 * (builds side by side, `npm run bench -- --ab`, docs/benchmarks.md).
 *
 * Why not sonic-boom's own buffer (`minLength`): every write measures the pending buffer
 * with `Buffer.byteLength`, which flattens the string built by appending line after line.
 * sonic-boom still does the writing (write(2), with its retry on a full non-blocking pipe).
 * The sink gets a copy of what waits (a sink may keep it), and the chunk is used again.
 */
import type { DestinationStream } from "pino";

export interface ByteSink {
  write(chunk: Buffer): unknown;
}

/** Room past the limit, bytes: the line that reaches the limit mostly fits in the chunk. */
const SLACK_BYTES = 4_096;
/** A UTF-16 code unit takes at most 3 bytes of UTF-8 (a surrogate pair: 4 for 2 units). */
const MAX_BYTES_PER_UNIT = 3;

export class LineBuffer implements DestinationStream {
  private readonly sink: ByteSink;
  private readonly limitBytes: number;
  private readonly capacity: number;
  private readonly chunk: Buffer;
  private used = 0;

  /** `limitBytes`: the chunk is written once it holds this many bytes. */
  constructor(sink: ByteSink, limitBytes: number) {
    this.sink = sink;
    this.limitBytes = Math.max(1, limitBytes);
    this.capacity = this.limitBytes + SLACK_BYTES;
    this.chunk = Buffer.allocUnsafeSlow(this.capacity);
  }

  /** A whole line (newline included), as pino hands it over. */
  write(line: string): void {
    const most = line.length * MAX_BYTES_PER_UNIT;
    if (most > this.capacity) {
      // Longer than any chunk could hold: what waits goes first, then the line alone.
      this.flushLines();
      this.sink.write(Buffer.from(line, "utf8"));
      return;
    }
    const chunk = this.room(most);
    this.commit(this.used + chunk.write(line, this.used, "utf8"));
  }

  /**
   * The chunk to encode a line of at most `maxBytes` into, at `offset`. What waits is written
   * first when the line might not fit. `maxBytes` may be up to `maxLineBytes`.
   */
  room(maxBytes: number): Buffer {
    if (this.used + maxBytes > this.capacity) this.flushLines();
    return this.chunk;
  }

  /** Where the next line starts in the chunk `room()` returned. */
  get offset(): number {
    return this.used;
  }

  /** The most one `room()` may ask for. */
  get maxLineBytes(): number {
    return this.capacity;
  }

  /** The line encoded at `offset` ends at `end`; written once the limit is reached. */
  commit(end: number): void {
    this.used = end;
    if (end >= this.limitBytes) this.flushLines();
  }

  /** Writes what waits; pino's `logger.flush(cb)` calls this. Throws when the sink does. */
  flush(callback?: (error?: Error) => void): void {
    this.flushLines();
    callback?.();
  }

  private flushLines(): void {
    if (this.used === 0) return;
    const waiting = Buffer.from(this.chunk.subarray(0, this.used));
    this.used = 0;
    this.sink.write(waiting);
  }
}
