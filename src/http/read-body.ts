/**
 * Reads a request body under a byte limit, straight from Node's IncomingMessage when the
 * app runs on @hono/node-server (no WHATWG Request is built: that costs about a tenth of
 * the gateway's time per call). A declared Content-Length over the limit is refused
 * before a byte is read; a chunked body is refused as soon as it passes the limit.
 * Either way nothing reaches a worker. Throws BODY_TOO_LARGE.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Context } from "hono";
import { GatewayError } from "../errors.js";
import { incomingOf, outgoingOf, requestHeader } from "./node-request.js";

/** The body of a request that has none (shared: nothing ever writes into it). */
export const NO_BODY: Buffer = Buffer.alloc(0);

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError("BODY_TOO_LARGE", `the request body exceeds ${maxBytes} bytes`);
}

export async function readBody(c: Context, maxBytes: number): Promise<Buffer> {
  const incoming = incomingOf(c);
  const declared = requestHeader(c, "content-length");
  if (declared !== undefined && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (!incoming) {
    const bytes = Buffer.from(await c.req.arrayBuffer());
    if (bytes.length > maxBytes) throw tooLarge(maxBytes);
    return bytes;
  }
  if (incoming.readableEnded || (declared === "0" && !incoming.headers["transfer-encoding"])) return NO_BODY;
  return collect(incoming, maxBytes, outgoingOf(c));
}

/**
 * The body from 'data' events: a stream's async iterator costs several Promises and
 * objects per request, a third of a small POST's time in the gateway. Rejects with
 * BODY_TOO_LARGE past `maxBytes`, or with the stream's error when the client goes away
 * mid-body. Past the limit the rest of the body is not read: the 413 closes the
 * connection (as nginx does), since the stream cannot go on behind an unread body.
 */
function collect(incoming: IncomingMessage, maxBytes: number, outgoing: ServerResponse | undefined): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      incoming.off("data", onData);
      incoming.off("end", onEnd);
      incoming.off("error", onError);
      incoming.off("close", onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        stop();
        if (outgoing && !outgoing.headersSent) outgoing.setHeader("connection", "close");
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      stop();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      stop();
      reject(error);
    };
    const onClose = (): void => {
      stop();
      reject(new Error("the request closed before its body ended"));
    };
    incoming.on("data", onData);
    incoming.on("end", onEnd);
    incoming.on("error", onError);
    incoming.on("close", onClose);
  });
}

/**
 * Hands the pool's cancel function to whatever tells that the client went away before its
 * response was sent: the Node response's `close` event, or the WHATWG request's signal
 * under `app.request()`. A client gone already cancels at once.
 */
export function cancelWhenClientGoes(c: Context): (cancel: () => void) => void {
  const outgoing = outgoingOf(c);
  if (!outgoing) {
    const signal = c.req.raw.signal;
    return (cancel) => {
      if (signal.aborted) cancel();
      else signal.addEventListener("abort", cancel, { once: true });
    };
  }
  return (cancel) => {
    const cancelIfUnanswered = (): void => {
      if (!outgoing.writableFinished) cancel();
    };
    if (outgoing.closed) cancelIfUnanswered();
    // `on`, not `once`: a response closes once, and `once` costs a wrapper per request.
    else outgoing.on("close", cancelIfUnanswered);
  };
}
