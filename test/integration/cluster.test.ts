import assert from "node:assert/strict";
import { request } from "node:http";
import { describe, test } from "node:test";
import { Router } from "zeromq";
import { runCli, spawnGateway, writeConfigFile, type GatewayProcess } from "../helpers/gateway-process.js";
import { waitUntil } from "../helpers/wait.js";

/**
 * A ROUTER standing in for REP workers (a DEALER may talk to either): it sees every
 * request as it arrives, from every gateway process, and can hold the replies.
 */
async function startRouterWorker() {
  const socket = new Router({ linger: 0 });
  await socket.bind("tcp://127.0.0.1:0");
  const peers = new Set<string>();
  const held: Buffer[][] = [];
  let holding = false;
  void (async () => {
    try {
      for await (const frames of socket) {
        peers.add(frames[0]!.toString("hex"));
        if (holding) held.push(frames);
        else await socket.send(frames); // [peer, correlation id, empty, body]: an echo
      }
    } catch {
      // closed: the test is over
    }
  })();
  return {
    endpoint: socket.lastEndpoint!,
    peers,
    held,
    hold: () => (holding = true),
    release: async () => {
      holding = false;
      for (const frames of held.splice(0)) await socket.send(frames);
    },
    close: () => socket.close(),
  };
}

/** POST on a connection of its own (no keep-alive), so node:cluster hands each to the next process. */
function post(url: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", agent: false, headers: { "content-length": Buffer.byteLength(body) } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const events = (gw: GatewayProcess, event: string) => gw.logs.filter((line) => line.event === event);

describe("--processes N: several gateway processes behind one port", () => {
  test("two processes share the public port with links of their own, and SIGTERM to the first drains both and exits 0", async () => {
    const worker = await startRouterWorker();
    const gw = await spawnGateway(["--processes", "2"], { ZMQ_GATEWAY_SERVICES: `echo=${worker.endpoint}` });
    try {
      await waitUntil(() => events(gw, "listening").length === 2, "both processes to listen");
      const listening = events(gw, "listening");
      assert.deepEqual(listening.map((line) => line.process).sort(), [0, 1]);
      assert.equal(new Set(listening.map((line) => line.httpPort)).size, 1, "one public port");
      assert.equal(new Set(listening.map((line) => line.pid)).size, 2, "two processes");

      // Fresh connections go to each process in turn; wait until both have their link up.
      const served = () => new Set(events(gw, "access").filter((line) => line.status === 200).map((line) => line.process));
      await waitUntil(async () => (await post(`${gw.url}/v1/echo`, "warm")).status > 0 && served().size === 2, "both processes to serve a call");
      assert.equal(worker.peers.size, 2, "each process connects its own DEALER to the worker");

      worker.hold();
      const calls = [post(`${gw.url}/v1/echo`, "one"), post(`${gw.url}/v1/echo`, "two")];
      await waitUntil(() => worker.held.length === 2, "both requests to reach the worker");
      assert.equal(new Set(worker.held.map((frames) => frames[0]!.toString("hex"))).size, 2, "one request through each process");

      gw.child.kill("SIGTERM");
      await waitUntil(() => events(gw, "draining").length === 2, "both processes to drain");
      await worker.release();
      const results = await Promise.all(calls);
      assert.deepEqual(results.map((result) => result.status), [200, 200]);
      assert.deepEqual(results.map((result) => result.body).sort(), ["one", "two"]);
      const { code, signal } = await gw.exited;
      assert.equal(code, 0, `exit ${code} ${signal}`);
      assert.deepEqual(events(gw, "stopped").map((line) => line.process).sort(), [0, 1, "primary"]);
    } finally {
      gw.child.kill("SIGKILL");
      worker.close();
    }
  });

  test("a process that dies stops the group, which exits 1 for its supervisor to restart", async () => {
    const worker = await startRouterWorker();
    const gw = await spawnGateway(["--processes", "2"], { ZMQ_GATEWAY_SERVICES: `echo=${worker.endpoint}` });
    try {
      await waitUntil(() => events(gw, "listening").length === 2, "both processes to listen");
      const victim = events(gw, "listening").find((line) => line.process === 1)!.pid as number;
      process.kill(victim, "SIGKILL"); // a process of the gateway this test started
      const { code } = await gw.exited;
      assert.equal(code, 1);
      assert.equal(events(gw, "process-exited").length, 1);
      assert.deepEqual(events(gw, "stopped").map((line) => line.process).sort(), [0, "primary"]);
    } finally {
      gw.child.kill("SIGKILL");
      worker.close();
    }
  });

  test("--processes refuses bind and frontend endpoints, which one process owns, and bad counts (exit 2)", async () => {
    const file = writeConfigFile({ services: { echo: { bind: "tcp://127.0.0.1:0" }, other: { frontend: "tcp://127.0.0.1:0" } } });
    const shared = await runCli(["--config", file, "--processes", "2"]);
    assert.equal(shared.code, 2);
    assert.match(shared.stderr, /--processes 2: echo, other has a bind or frontend endpoint, which only one process can own/);
    for (const count of ["0", "1.5", "many", "65"]) {
      const bad = await runCli(["--processes", count]);
      assert.equal(bad.code, 2, count);
      assert.match(bad.stderr, /--processes: must be 1 to 64 or auto/);
    }
  });
});
