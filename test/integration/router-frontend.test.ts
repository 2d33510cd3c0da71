import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { Request } from "zeromq";
import { startGateway } from "../helpers/gateway.js";
import { startWorker } from "../helpers/workers.js";

test("native REQ clients and HTTP clients share one pool and replies never cross", async () => {
  const tag = (frames: Buffer[]) => frames.map((frame, index) => (index === 0 ? Buffer.concat([Buffer.from("re:"), frame]) : frame));
  const workers = await Promise.all([1, 2].map(() => startWorker(tag)));
  const gw = await startGateway({ services: { echo: { workers: workers.map((w) => w.endpoint), frontend: "tcp://127.0.0.1:0" } } });
  const clients = Array.from({ length: 5 }, () => new Request({ linger: 0, receiveTimeout: 10_000 }));
  try {
    await gw.waitForWorkers("echo", 2);
    const frontend = gw.addresses.frontends.echo!;
    for (const client of clients) client.connect(frontend);

    const zmqCalls = clients.map(async (client, c) => {
      for (let i = 0; i < 20; i++) {
        const token = `zmq-${c}-${i}-${randomUUID()}`;
        await client.send([token, "second frame"]);
        const reply = await client.receive();
        assert.deepEqual(reply.map(String), [`re:${token}`, "second frame"], "frames come back unchanged, in order");
      }
    });
    const httpCalls = Array.from({ length: 100 }, async (_, i) => {
      const token = `http-${i}-${randomUUID()}`;
      const response = await fetch(`${gw.url}/v1/echo`, { method: "POST", body: token });
      assert.equal(await response.text(), `re:${token}`);
    });
    await Promise.all([...zmqCalls, ...httpCalls]);

    const service = (await gw.services()).services[0]!;
    assert.equal(service.counters.replied, 200);
    assert.equal(service.pending, 0);
    const received = workers.flatMap((w) => w.received);
    assert.equal(received.filter((frames) => frames.length === 2).length, 100, "REQ frames reached workers unchanged (two frames)");
  } finally {
    for (const client of clients) client.close();
    await gw.stop();
    for (const worker of workers) worker.close();
  }
});

test("a REQ client gets a problem frame when the pool has no worker, and its timeout applies", async () => {
  const slow = await startWorker(async (frames) => {
    await new Promise((resolve) => setTimeout(resolve, 400));
    return frames;
  });
  const gw = await startGateway({
    services: {
      none: { frontend: "tcp://127.0.0.1:0" },
      slow: { frontend: "tcp://127.0.0.1:0", workers: [slow.endpoint], timeoutMs: 100 },
    },
  });
  const client = new Request({ linger: 0, receiveTimeout: 5_000 });
  const slowClient = new Request({ linger: 0, receiveTimeout: 5_000 });
  try {
    client.connect(gw.addresses.frontends.none!);
    await client.send("anyone?");
    const [frame] = await client.receive();
    const problem = JSON.parse(frame!.toString()) as { code: string; status: number };
    assert.equal(problem.code, "NO_WORKER");
    assert.equal(problem.status, 503);

    await gw.waitForWorkers("slow", 1);
    slowClient.connect(gw.addresses.frontends.slow!);
    await slowClient.send("too slow");
    const [timeoutFrame] = await slowClient.receive();
    assert.equal((JSON.parse(timeoutFrame!.toString()) as { code: string }).code, "TIMEOUT");
  } finally {
    client.close();
    slowClient.close();
    await gw.stop();
    slow.close();
  }
});
