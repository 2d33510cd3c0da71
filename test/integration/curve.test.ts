import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { describe, test } from "node:test";
import { Context, Reply, curveKeyPair } from "zeromq";
import { startGateway } from "../helpers/gateway.js";
import { writeConfigFile } from "../helpers/gateway-process.js";
import { waitUntil } from "../helpers/wait.js";

type Pair = { publicKey: string; secretKey: string };

/** A CURVE REP worker; `serve` makes it a CURVE server (connect-out) instead of a client. */
async function curveWorker(keys: Pair, options: { connect?: string; serverKey?: string; name: string }) {
  // Its own context, as in a separate process: the gateway's ZAP handler serves only its own context.
  const socket = new Reply({ linger: 0, context: new Context() });
  if (options.connect) {
    socket.curveServerKey = options.serverKey!;
    socket.curvePublicKey = keys.publicKey;
    socket.curveSecretKey = keys.secretKey;
    socket.connect(options.connect);
  } else {
    socket.curveServer = true;
    socket.curveSecretKey = keys.secretKey;
    await socket.bind("tcp://127.0.0.1:0");
  }
  const received: string[] = [];
  void (async () => {
    try {
      for await (const [body] of socket) {
        received.push(body!.toString());
        await socket.send(`${options.name}:${body!.toString()}`);
      }
    } catch {
      // closed
    }
  })();
  return { socket, keys, received, endpoint: socket.lastEndpoint ?? options.connect!, close: () => socket.close() };
}

describe("CURVE on worker links", () => {
  test("only connect-in workers whose key is allowed get requests, and removing a key cuts its connection", async () => {
    const gatewayKeys = curveKeyPair();
    const trusted = curveKeyPair();
    const other = curveKeyPair();
    const stranger = curveKeyPair();
    const keysFile = writeConfigFile(`# allowed workers\n${trusted.publicKey}\n${other.publicKey}\n`, "allowed-keys.txt");
    const gw = await startGateway(
      { curve: { enabled: true, allowedKeysFile: keysFile }, services: { svc: { bind: "tcp://127.0.0.1:0" } } },
      { curve: gatewayKeys },
    );
    const bind = gw.addresses.binds.svc!;
    const good = await curveWorker(trusted, { connect: bind, serverKey: gatewayKeys.publicKey, name: "trusted" });
    const second = await curveWorker(other, { connect: bind, serverKey: gatewayKeys.publicKey, name: "other" });
    const bad = await curveWorker(stranger, { connect: bind, serverKey: gatewayKeys.publicKey, name: "stranger" });
    try {
      await waitUntil(async () => (await gw.services()).services[0]!.workers[0]!.peers === 2, "the two allowed workers to connect");
      const replies = await Promise.all(Array.from({ length: 12 }, async (_, i) => (await fetch(`${gw.url}/v1/svc`, { method: "POST", body: `r${i}` })).text()));
      assert.ok(replies.every((reply) => /^(trusted|other):r\d+$/.test(reply)), replies.join(","));
      assert.equal(bad.received.length, 0, "the refused worker got nothing");
      assert.equal((await gw.services()).services[0]!.workers[0]!.peers, 2);

      writeFileSync(keysFile, `${trusted.publicKey}\n`);
      const reload = await gw.gateway.reloadAllowedKeys();
      assert.deepEqual(reload, { allowed: 1, removed: 1 });
      await waitUntil(async () => (await gw.services()).services[0]!.workers[0]!.peers === 1, "only the still-allowed worker to be connected");
      const before = second.received.length;
      const after = await Promise.all(Array.from({ length: 6 }, async (_, i) => (await fetch(`${gw.url}/v1/svc`, { method: "POST", body: `s${i}` })).text()));
      assert.ok(after.every((reply) => reply.startsWith("trusted:")), after.join(","));
      assert.equal(second.received.length, before, "the removed key gets nothing more");
    } finally {
      good.close();
      second.close();
      bad.close();
      await gw.stop();
    }
  });

  test("a connect-out worker is reached as a CURVE client with the worker's server key", async () => {
    const gatewayKeys = curveKeyPair();
    const workerKeys = curveKeyPair();
    const worker = await curveWorker(workerKeys, { name: "out" });
    const gw = await startGateway(
      { curve: { enabled: true }, services: { svc: { workers: [{ endpoint: worker.endpoint, serverKey: workerKeys.publicKey }] }, reg: {} } },
      { curve: gatewayKeys },
    );
    const registered = await curveWorker(curveKeyPair(), { name: "registered" });
    try {
      await gw.waitForWorkers("svc", 1);
      assert.equal(await (await fetch(`${gw.url}/v1/svc`, { method: "POST", body: "hi" })).text(), "out:hi");

      const missingKey = await fetch(`${gw.adminUrl}/admin/services/reg/workers`, { method: "POST", body: JSON.stringify({ endpoint: registered.endpoint }) });
      assert.equal(missingKey.status, 400);
      assert.match(((await missingKey.json()) as { detail: string }).detail, /serverKey/);
      const wrongKey = await fetch(`${gw.adminUrl}/admin/services/reg/workers`, {
        method: "POST",
        body: JSON.stringify({ endpoint: registered.endpoint, serverKey: curveKeyPair().publicKey }),
      });
      assert.equal(wrongKey.status, 201, "registration is accepted; the CURVE handshake then fails");
      const { id: wrongId } = (await wrongKey.json()) as { id: string };
      const right = await fetch(`${gw.adminUrl}/admin/services/reg/workers`, {
        method: "POST",
        body: JSON.stringify({ endpoint: registered.endpoint, serverKey: registered.keys.publicKey }),
      });
      assert.equal(right.status, 201);
      await gw.waitForWorkers("reg", 1);
      assert.equal(await (await fetch(`${gw.url}/v1/reg`, { method: "POST", body: "x" })).text(), "registered:x");
      const wrong = (await gw.services()).services.find((s) => s.name === "reg")!.workers.find((w) => w.id === wrongId)!;
      assert.equal(wrong.connected, false, "a wrong server key never completes the handshake");
    } finally {
      worker.close();
      registered.close();
      await gw.stop();
    }
  });
});
