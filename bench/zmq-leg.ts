/**
 * The ZeroMQ leg alone: a DEALER sends the 100-byte payload to a REP over tcp loopback,
 * then over ipc:// (a Unix-domain socket in DIR), and waits for the echo, both sockets in
 * this one process (zeromq v6), with 1 and 4 requests in flight (the gateway's `window`).
 * It bounds what any gateway on this library can do per core, with no HTTP at all.
 *
 *   taskset -c 0 node dist/bench/zmq-leg.js [seconds] [DIR]    (DIR: default the OS temp folder)
 *
 * Prints one line, `ZMQ_LEG {"results":[...]}`, for the orchestrator.
 */
import { performance } from "node:perf_hooks";
import { tmpdir } from "node:os";
import { Dealer, Reply } from "zeromq";
import { FIXED_JSON_BYTES } from "./payload.js";
import { zmqBindEndpoint } from "./transport.js";

export interface LegResult {
  /** ZeroMQ's name for it: tcp (loopback) or ipc (Unix-domain socket). */
  transport: "tcp" | "ipc";
  window: number;
  roundTrips: number;
  roundTripsPerSecond: number;
  /** Process CPU (all threads: both sockets and ZeroMQ's I/O thread) per round trip, µs. */
  cpuUsPerRoundTrip: number;
}

const EMPTY = Buffer.alloc(0);

async function measure(transport: LegResult["transport"], window: number, durationMs: number, dir: string): Promise<LegResult> {
  const reply = new Reply({ linger: 0 });
  await reply.bind(zmqBindEndpoint(transport === "tcp" ? "tcp" : "unix", dir, `zmq-leg-${process.pid}`));
  const dealer = new Dealer({ linger: 0 });
  dealer.connect(reply.lastEndpoint ?? "");
  const echo = (async () => {
    for await (const frames of reply) await reply.send(frames);
  })().catch(() => undefined); // ends with an error when the socket closes

  const roundTrip = async () => {
    await dealer.send([EMPTY, FIXED_JSON_BYTES]); // empty delimiter, as REQ would send
  };
  for (let i = 0; i < 1_000; i++) {
    await roundTrip();
    await dealer.receive();
  }

  for (let i = 0; i < window; i++) await roundTrip();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const end = start + durationMs;
  let done = 0;
  for (;;) {
    await dealer.receive();
    done++;
    if (performance.now() >= end) break;
    await roundTrip();
  }
  const elapsedMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  for (let i = 1; i < window; i++) await dealer.receive(); // drain what is still in flight

  dealer.close();
  reply.close();
  await echo;
  return {
    transport,
    window,
    roundTrips: done,
    roundTripsPerSecond: Math.round((done * 1000) / elapsedMs),
    cpuUsPerRoundTrip: Math.round(((cpu.user + cpu.system) / done) * 100) / 100,
  };
}

const seconds = Number(process.argv[2] ?? 5);
const dir = process.argv[3] ?? tmpdir();
const results: LegResult[] = [];
for (const transport of ["tcp", "ipc"] as const) {
  for (const window of [1, 4]) results.push(await measure(transport, window, seconds * 1000, dir));
}
console.log(`ZMQ_LEG ${JSON.stringify({ results })}`);
