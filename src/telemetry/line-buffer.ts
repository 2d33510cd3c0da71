/**
 * The log's memory buffer: lines wait in an array and go to the sink joined, one write
 * per buffer, as nginx's `buffer=` does for its access log.
 *
 * Why not sonic-boom's own buffer (`minLength`): every write measures the pending buffer
 * with `Buffer.byteLength`, which flattens the string built by appending line after line.
 * At 4 KiB of buffer and ~250-byte access lines that copies about 2 KB per line: a tenth
 * of the garbage the gateway made per request. Here each line is appended once and the
 * buffer joined once. sonic-boom still does the writing (write(2), with its retry on a
 * full non-blocking pipe), unbuffered.
 */
import type { DestinationStream } from "pino";

export interface LineSink {
  write(chunk: string): unknown;
}

export class LineBuffer implements DestinationStream {
  private readonly lines: string[] = [];
  /** UTF-16 code units waiting: a lower bound of the bytes, good enough for a threshold. */
  private waiting = 0;

  /** `limitChars`: the buffer is written once it holds this much. */
  constructor(
    private readonly sink: LineSink,
    private readonly limitChars: number,
  ) {}

  write(line: string): void {
    this.lines.push(line);
    this.waiting += line.length;
    if (this.waiting >= this.limitChars) this.flushLines();
  }

  /** Writes what waits; pino's `logger.flush(cb)` calls this. Throws when the sink does. */
  flush(callback?: (error?: Error) => void): void {
    this.flushLines();
    callback?.();
  }

  private flushLines(): void {
    if (this.lines.length === 0) return;
    const chunk = this.lines.join("");
    this.lines.length = 0;
    this.waiting = 0;
    this.sink.write(chunk);
  }
}
