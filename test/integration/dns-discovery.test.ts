import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, test } from "node:test";
import { Reply } from "zeromq";
import { parseConfig } from "../../src/config.js";
import { createGateway, type Gateway } from "../../src/gateway.js";
import { resolveWithLookup, type ResolveAddresses } from "../../src/services/dns-discovery.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { waitUntil } from "../helpers/wait.js";

/** A REP worker bound to host:port that replies `${name}:${body}`; `hold()` keeps requests until `release()`. */
async function bindWorker(name: string, host: string, port = 0) {
  const socket = new Reply({ linger: 0 });
  await socket.bind(`tcp://${host}:${port}`);
  const received: string[] = [];
  let holding = false;
  const held: (() => void)[] = [];
  void (async () => {
    try {
      for await (const [body] of socket) {
        received.push(body?.toString() ?? "");
        if (holding) await new Promise<void>((resolve) => held.push(resolve));
        await socket.send(`${name}:${body?.toString() ?? ""}`);
      }
    } catch {
      // closed: the test is over
    }
  })();
  return {
    port: Number(socket.lastEndpoint?.split(":").pop()),
    received,
    hold: () => (holding = true),
    release: () => {
      holding = false;
      for (const wake of held.splice(0)) wake();
    },
    close: () => socket.close(),
  };
}

/** A resolver whose answer the test changes; counts its calls. */
function fakeResolver(initial: string[]) {
  const state = { answer: initial as string[] | NodeJS.ErrnoException, calls: 0, names: new Set<string>() };
  const resolve: ResolveAddresses = (hostname) => {
    state.calls++;
    state.names.add(hostname);
    const answer = state.answer;
    return Array.isArray(answer) ? Promise.resolve([...answer]) : Promise.reject(answer);
  };
  return { state, resolve };
}

const dnsError = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`getaddrinfo ${code} workers.test`), { code });

async function startDnsGateway(endpoint: string, resolve?: ResolveAddresses) {
  const config = parseConfig({
    http: { host: "127.0.0.1", port: 0 },
    admin: { host: "127.0.0.1", port: 0 },
    lingerMs: 0,
    drainTimeoutMs: 2_000,
    discovery: { dnsIntervalMs: 20 },
    services: { calc: { workers: [endpoint], timeoutMs: 5_000 } },
  });
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const gateway: Gateway = createGateway(config, createLogger("info", sink), resolve ? { resolve } : {});
  const { httpPort } = await gateway.start();
  const pool = gateway.services.get("calc")!.pool;
  const workers = () => pool.snapshot();
  const endpoints = (state?: string) => workers().filter((w) => state === undefined || w.state === state).map((w) => w.endpoint).sort();
  const call = async (body: string) => {
    const response = await fetch(`http://127.0.0.1:${httpPort}/v1/calc`, { method: "POST", body });
    return { status: response.status, text: await response.text() };
  };
  return { gateway, pool, logs, workers, endpoints, call, stop: () => gateway.stop() };
}

describe("worker discovery by DNS (dns+tcp://name:port)", () => {
  test("every address the name resolves to becomes a worker, and calls reach each of them", async () => {
    const a = await bindWorker("a", "127.0.0.1");
    const b = await bindWorker("b", "127.0.0.2", a.port);
    const dns = fakeResolver(["127.0.0.1", "127.0.0.2"]);
    const gw = await startDnsGateway(`dns+tcp://workers.test:${a.port}`, dns.resolve);
    try {
      assert.deepEqual([...dns.state.names], ["workers.test"]);
      assert.deepEqual(gw.endpoints(), [`tcp://127.0.0.1:${a.port}`, `tcp://127.0.0.2:${a.port}`]);
      assert.ok(gw.workers().every((w) => w.joined === "config"));
      await waitUntil(() => gw.pool.connectedWorkers === 2, "both discovered workers to connect");
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => gw.call(`n${i}`)));
      assert.ok(replies.every((reply) => reply.status === 200));
      const names = new Set(replies.map((reply) => reply.text.split(":")[0]));
      assert.deepEqual([...names].sort(), ["a", "b"]);
      const added = gw.logs.filter((line) => line.event === "dns-worker-added");
      assert.deepEqual(added.map((line) => line.address).sort(), ["127.0.0.1", "127.0.0.2"]);
    } finally {
      await gw.stop();
      a.close();
      b.close();
    }
  });

  test("a new address is added and a vanished one removed: its held request is answered and new calls go to the new set", async () => {
    const a = await bindWorker("a", "127.0.0.1");
    const b = await bindWorker("b", "127.0.0.2", a.port);
    const c = await bindWorker("c", "127.0.0.3", a.port);
    const dns = fakeResolver(["127.0.0.1", "127.0.0.2"]);
    const gw = await startDnsGateway(`dns+tcp://workers.test:${a.port}`, dns.resolve);
    try {
      await waitUntil(() => gw.pool.connectedWorkers === 2, "two workers to connect");
      a.hold();
      b.hold();
      const heldCalls = [gw.call("held-1"), gw.call("held-2")];
      await waitUntil(() => a.received.length === 1 && b.received.length === 1, "a and b to hold one request each");

      dns.state.answer = ["127.0.0.2", "127.0.0.3"];
      await waitUntil(() => gw.endpoints("removing").length === 1, "the vanished address to be removed");
      assert.deepEqual(gw.endpoints("removing"), [`tcp://127.0.0.1:${a.port}`]);
      await waitUntil(() => gw.workers().some((w) => w.endpoint === `tcp://127.0.0.3:${a.port}` && w.connected), "the new address to connect");

      // b still holds its request, a is removing: a new call goes to c.
      assert.deepEqual(await gw.call("new-1"), { status: 200, text: "c:new-1" });
      a.release();
      b.release();
      const held = await Promise.all(heldCalls);
      assert.deepEqual(held.map((reply) => reply.status), [200, 200]);
      assert.deepEqual(held.map((reply) => reply.text).sort(), ["a:held-1", "b:held-2"].sort());
      await waitUntil(() => !gw.endpoints().includes(`tcp://127.0.0.1:${a.port}`), "the removed worker to close once it answered");

      // a's socket is still bound, but the gateway no longer sends it anything.
      const later = await Promise.all(Array.from({ length: 20 }, (_, i) => gw.call(`later-${i}`)));
      assert.ok(later.every((reply) => reply.status === 200));
      assert.deepEqual([...new Set(later.map((reply) => reply.text.split(":")[0]))].sort(), ["b", "c"]);
      assert.equal(a.received.length, 1);
      assert.equal(gw.logs.filter((line) => line.event === "dns-worker-removed").length, 1);
    } finally {
      await gw.stop();
      a.close();
      b.close();
      c.close();
    }
  });

  test("a transient DNS failure keeps the workers; a name with no address removes them until it resolves again", async () => {
    const a = await bindWorker("a", "127.0.0.1");
    const dns = fakeResolver(["127.0.0.1"]);
    const gw = await startDnsGateway(`dns+tcp://workers.test:${a.port}`, dns.resolve);
    try {
      await waitUntil(() => gw.pool.connectedWorkers === 1, "the worker to connect");
      dns.state.answer = dnsError("EAI_AGAIN");
      const before = dns.state.calls;
      await waitUntil(() => dns.state.calls >= before + 3, "three failed resolutions");
      assert.equal(gw.workers().length, 1);
      assert.deepEqual(await gw.call("still"), { status: 200, text: "a:still" });

      dns.state.answer = dnsError("ENOTFOUND");
      await waitUntil(() => gw.workers().length === 0, "the workers of a name that no longer exists to go");
      assert.equal((await gw.call("none")).status, 503);

      dns.state.answer = ["127.0.0.1"];
      await waitUntil(() => gw.pool.connectedWorkers === 1, "the worker to come back");
      assert.deepEqual(await gw.call("back"), { status: 200, text: "a:back" });
      // Each failure is logged once, not on every interval.
      assert.deepEqual(gw.logs.filter((line) => line.event === "dns-failed").map((line) => line.code), ["EAI_AGAIN", "ENOTFOUND"]);
      assert.equal(gw.logs.filter((line) => line.event === "dns-resolved").length, 1);
    } finally {
      await gw.stop();
      a.close();
    }
  });

  test("a gateway whose name does not resolve at start still starts, and picks the workers up later", async () => {
    const a = await bindWorker("a", "127.0.0.1");
    const dns = fakeResolver([]);
    dns.state.answer = dnsError("ENOTFOUND");
    const gw = await startDnsGateway(`dns+tcp://workers.test:${a.port}`, dns.resolve);
    try {
      assert.equal(gw.workers().length, 0);
      assert.equal((await gw.call("early")).status, 503);
      dns.state.answer = ["127.0.0.1"];
      await waitUntil(() => gw.pool.connectedWorkers === 1, "the worker to be discovered");
      assert.deepEqual(await gw.call("late"), { status: 200, text: "a:late" });
    } finally {
      await gw.stop();
      a.close();
    }
  });

  test("a worker removed over the admin API comes back while its address is still in DNS", async () => {
    const a = await bindWorker("a", "127.0.0.1");
    const dns = fakeResolver(["127.0.0.1"]);
    const gw = await startDnsGateway(`dns+tcp://workers.test:${a.port}`, dns.resolve);
    try {
      await waitUntil(() => gw.pool.connectedWorkers === 1, "the worker to connect");
      const [first] = gw.workers();
      assert.ok(gw.pool.removeWorker(first!.id));
      await waitUntil(() => gw.workers().some((w) => w.id !== first!.id && w.connected), "a new worker for the same address");
      assert.deepEqual(gw.endpoints(), [`tcp://127.0.0.1:${a.port}`]);
    } finally {
      await gw.stop();
      a.close();
    }
  });

  test("the system resolver finds localhost in /etc/hosts, end to end", async () => {
    assert.ok((await resolveWithLookup("localhost")).includes("127.0.0.1"));
    const a = await bindWorker("a", "127.0.0.1");
    const gw = await startDnsGateway(`dns+tcp://localhost:${a.port}`);
    try {
      await waitUntil(() => gw.pool.connectedWorkers === 1, "the worker found through localhost");
      assert.deepEqual(await gw.call("hi"), { status: 200, text: "a:hi" });
    } finally {
      await gw.stop();
      a.close();
    }
  });

  test("the dns+tcp form is accepted for configured workers only, with a real port", () => {
    const config = parseConfig({ services: { calc: { workers: ["dns+tcp://workers-headless.ns.svc:5555", { endpoint: "dns+tcp://w.test:1", meta: true }] } } });
    assert.deepEqual(config.services.calc!.workers.map((w) => w.endpoint), ["dns+tcp://workers-headless.ns.svc:5555", "dns+tcp://w.test:1"]);
    assert.equal(config.discovery.dnsIntervalMs, 5_000);
    for (const services of [
      { calc: { workers: ["dns+tcp://w.test:0"] } },
      { calc: { workers: ["dns+tcp://w.test:70000"] } },
      { calc: { workers: ["dns+tcp://*:5555"] } },
      { calc: { workers: [{ endpoint: "dns+tcp://w.test" }] } },
      { calc: { bind: "dns+tcp://w.test:5555" } },
      { calc: { frontend: "dns+tcp://w.test:5555" } },
    ]) {
      assert.throws(() => parseConfig({ services }), /invalid config: services\.calc/, JSON.stringify(services));
    }
    assert.throws(() => parseConfig({ discovery: { dnsIntervalMs: 0 } }), /discovery\.dnsIntervalMs/);
  });
});
