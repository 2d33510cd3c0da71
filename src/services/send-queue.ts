/**
 * Serializes sends on one zeromq.js socket. zeromq.js v6 allows a single pending send per
 * socket and throws EBUSY on a second one, so every send goes through one queue that
 * awaits each message before the next. Failures are reported per message, never thrown.
 */
import type { Writable } from "zeromq";

export class SendQueue {
  private readonly socket: Writable;
  private readonly onFailed: (frames: Buffer[], error: unknown) => void;
  private readonly queue: Buffer[][] = [];
  private sending = false;
  private closed = false;

  constructor(socket: Writable, onFailed: (frames: Buffer[], error: unknown) => void) {
    this.socket = socket;
    this.onFailed = onFailed;
  }

  push(frames: Buffer[]): void {
    if (this.closed) {
      this.onFailed(frames, new Error("socket closed"));
      return;
    }
    this.queue.push(frames);
    if (!this.sending) void this.flush();
  }

  private async flush(): Promise<void> {
    this.sending = true;
    try {
      for (let frames = this.queue.shift(); frames; frames = this.queue.shift()) {
        try {
          await this.socket.send(frames);
        } catch (error) {
          this.onFailed(frames, error);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /** Reports every queued message failed and refuses new ones. */
  close(): void {
    this.closed = true;
    for (let frames = this.queue.shift(); frames; frames = this.queue.shift()) {
      this.onFailed(frames, new Error("socket closed"));
    }
  }
}
