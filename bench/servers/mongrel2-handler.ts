/**
 * A Mongrel2 echo handler in Node with the same zeromq library as the gateway, serving
 * the same bytes: an empty request (GET) gets the fixed 100-byte JSON, any other body
 * is echoed.
 *
 *   M2_SEND_SPEC=tcp://127.0.0.1:P1 M2_RECV_SPEC=tcp://127.0.0.1:P2 \
 *     node dist/bench/servers/mongrel2-handler.js
 *
 * Mongrel2 binds both sockets; the handler connects a PULL to send_spec and a PUB to
 * recv_spec. Wire format (netstrings are `LEN:BYTES,`):
 *
 *   request:  UUID SP CONNID SP PATH SP netstring(headers JSON) netstring(body)
 *   reply:    UUID SP netstring(CONNID) SP raw-HTTP-response
 *
 * Messages whose METHOD header is `JSON` are Mongrel2's own notices (a client went
 * away) and get no reply.
 */
import { Publisher, Pull } from "zeromq";
import { FIXED_JSON_BYTES } from "../payload.js";

interface Mongrel2Request {
  sender: string;
  connId: string;
  method: string;
  body: Buffer;
}

/** Reads `LEN:BYTES,` at `offset`; returns the bytes and the offset after the comma. */
function readNetstring(message: Buffer, offset: number): [Buffer, number] {
  const colon = message.indexOf(0x3a, offset);
  const length = Number(message.toString("latin1", offset, colon));
  const start = colon + 1;
  if (colon < 0 || !Number.isInteger(length) || message[start + length] !== 0x2c) {
    throw new Error("malformed netstring");
  }
  return [message.subarray(start, start + length), start + length + 1];
}

function parseRequest(message: Buffer): Mongrel2Request {
  const first = message.indexOf(0x20);
  const second = message.indexOf(0x20, first + 1);
  const third = message.indexOf(0x20, second + 1);
  if (first < 0 || second < 0 || third < 0) throw new Error("malformed request");
  const [headers, next] = readNetstring(message, third + 1);
  const [body] = readNetstring(message, next);
  const method = (JSON.parse(headers.toString("utf8")) as { METHOD?: string }).METHOD ?? "";
  return {
    sender: message.toString("latin1", 0, first),
    connId: message.toString("latin1", first + 1, second),
    method,
    body,
  };
}

function encodeReply(request: Mongrel2Request, body: Buffer): Buffer {
  const head =
    `${request.sender} ${request.connId.length}:${request.connId}, ` +
    `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), body]);
}

const pull = new Pull({ linger: 0 });
const pub = new Publisher({ linger: 0 });
pull.connect(process.env.M2_SEND_SPEC ?? "tcp://127.0.0.1:9997");
pub.connect(process.env.M2_RECV_SPEC ?? "tcp://127.0.0.1:9996");
console.log("ready");
process.once("SIGTERM", () => {
  pull.close();
  pub.close();
});

for await (const [message] of pull) {
  if (!message) continue;
  const request = parseRequest(message);
  if (request.method === "JSON") continue;
  const body = request.body.length === 0 ? FIXED_JSON_BYTES : request.body;
  await pub.send(encodeReply(request, body));
}
