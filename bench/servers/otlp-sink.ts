/**
 * A local OTLP/HTTP receiver for the bench's "tracing on" row: it reads every export
 * (POST /v1/traces) to the end and answers 200 with an empty body, which the OTLP
 * exporters take as full success. It counts what it got and prints the totals on
 * SIGTERM, so the run can show the spans were really exported. Nothing is decoded: the
 * point is the gateway's cost of tracing, not the receiver's.
 *
 *   node dist/bench/servers/otlp-sink.js      prints `listening PORT`, then on SIGTERM `exports N bytes B`
 */
import { createServer } from "node:http";

let exports = 0;
let bytes = 0;
const server = createServer((request, response) => {
  request.on("data", (chunk: Buffer) => {
    bytes += chunk.length;
  });
  request.on("end", () => {
    if (request.url === "/v1/traces") exports++;
    response.writeHead(request.url === "/v1/traces" ? 200 : 404, { "content-length": 0 }).end();
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  console.log(`listening ${typeof address === "object" && address ? address.port : 0}`);
});
process.once("SIGTERM", () => {
  console.log(`exports ${exports} bytes ${bytes}`);
  server.close();
  server.closeAllConnections();
});
