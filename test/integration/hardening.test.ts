import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect } from "node:net";
import { describe, test } from "node:test";
import { startGateway } from "../helpers/gateway.js";
import { waitUntil } from "../helpers/wait.js";
import { echo, startWorker } from "../helpers/workers.js";

/** Sends raw bytes and resolves with everything the server wrote before it closed. */
function rawExchange(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let out = "";
    const timer = setTimeout(() => socket.destroy(), 3_000);
    socket.on("data", (chunk: Buffer) => (out += chunk.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
    socket.write(bytes);
  });
}

const TOKEN = "s3cret-token-of-some-length";

describe("hardening", () => {
  test("the admin API needs the bearer token; liveness stays open", async () => {
    const gw = await startGateway({ services: { svc: {} } }, { adminToken: TOKEN });
    try {
      const none = await fetch(`${gw.adminUrl}/admin/services`);
      assert.equal(none.status, 401);
      assert.equal(none.headers.get("content-type"), "application/problem+json");
      assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/);
      assert.equal((await fetch(`${gw.adminUrl}/admin/services`, { headers: { authorization: "Bearer wrong" } })).status, 401);
      assert.equal((await fetch(`${gw.adminUrl}/admin/services`, { headers: { authorization: `Basic ${TOKEN}` } })).status, 401);
      assert.equal((await fetch(`${gw.adminUrl}/metrics`)).status, 401);
      const register = await fetch(`${gw.adminUrl}/admin/services/svc/workers`, { method: "POST", body: JSON.stringify({ endpoint: "tcp://127.0.0.1:5555" }) });
      assert.equal(register.status, 401, "no worker is added without the token");
      assert.equal((await fetch(`${gw.adminUrl}/admin/services`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
      assert.equal((await fetch(`${gw.adminUrl}/healthz`)).status, 200);
    } finally {
      await gw.stop();
    }
  });

  test("a cross-site browser request cannot change the admin API, even without a token", async () => {
    const gw = await startGateway({ services: { svc: {} } });
    try {
      const body = JSON.stringify({ endpoint: "tcp://127.0.0.1:5555" });
      const url = `${gw.adminUrl}/admin/services/svc/workers`;
      const forged = await fetch(url, { method: "POST", body, headers: { "content-type": "text/plain", origin: "https://evil.example" } });
      assert.equal(forged.status, 403);
      assert.equal(((await forged.json()) as { code: string }).code, "FORBIDDEN");
      assert.equal((await fetch(url, { method: "POST", body, headers: { "sec-fetch-site": "cross-site" } })).status, 403);
      assert.equal((await gw.services()).services[0]!.workers.length, 0, "nothing was registered");
      const sameOrigin = await fetch(url, { method: "POST", body, headers: { origin: gw.adminUrl, "sec-fetch-site": "same-origin" } });
      assert.equal(sameOrigin.status, 201, "the console on the admin origin itself still works");
    } finally {
      await gw.stop();
    }
  });

  test("without a token the admin listener binds 127.0.0.1 only, whatever host is configured, and says so", async () => {
    const gw = await startGateway({ admin: { host: "0.0.0.0", port: 0 }, services: {} });
    try {
      assert.ok(gw.logs.some((line) => line.event === "admin-loopback-only" && line.configured === "0.0.0.0"));
      assert.equal((await fetch(`${gw.adminUrl}/healthz`)).status, 200);
    } finally {
      await gw.stop();
    }
  });

  test("registration refuses hosts off the allow-list and endpoints that point back at the gateway", async () => {
    const gw = await startGateway({
      admin: { host: "127.0.0.1", port: 0, allowedWorkerHosts: ["127.0.0.0/8", "*.workers.internal"] },
      services: { svc: { bind: "tcp://127.0.0.1:0" } },
    });
    const register = async (endpoint: string) => {
      const response = await fetch(`${gw.adminUrl}/admin/services/svc/workers`, { method: "POST", body: JSON.stringify({ endpoint }) });
      return { status: response.status, body: (await response.json()) as { detail?: string } };
    };
    try {
      const offList = await register("tcp://10.1.2.3:5555");
      assert.equal(offList.status, 400);
      assert.match(offList.body.detail ?? "", /allowedWorkerHosts/);
      assert.equal((await register("tcp://db.example.com:5555")).status, 400);
      assert.equal((await register("tcp://a.workers.internal:5555")).status, 201);
      assert.equal((await register("tcp://127.0.0.9:5555")).status, 201);
      for (const own of [`tcp://127.0.0.1:${gw.addresses.httpPort}`, `tcp://localhost:${gw.addresses.adminPort}`, gw.addresses.binds.svc!]) {
        const loop = await register(own);
        assert.equal(loop.status, 400, own);
        assert.match(loop.body.detail ?? "", /gateway's own/);
      }
      assert.equal((await register("ipc:///tmp/worker.sock")).status, 400, "ipc is not on this allow-list");
      assert.equal((await register("udp://127.0.0.1:5555")).status, 400);
    } finally {
      await gw.stop();
    }
  });

  test("request smuggling shapes and oversized heads get a problem answer and never reach a worker", async () => {
    const worker = await startWorker(echo);
    const gw = await startGateway({ http: { host: "127.0.0.1", port: 0, maxHeaderBytes: 8_192 }, services: { echo: { workers: [worker.endpoint] } } });
    try {
      await gw.waitForWorkers("echo", 1);
      const port = gw.addresses.httpPort;
      const shapes: Record<string, string> = {
        "Content-Length with Transfer-Encoding": "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "duplicate Content-Length": "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
        "same Content-Length twice": "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd",
        "obs-fold": "POST /v1/echo HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\nContent-Length: 4\r\n\r\nabcd",
        "bare LF": "POST /v1/echo HTTP/1.1\nHost: x\nContent-Length: 4\n\nabcd",
        "a bad chunk size": "POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabcd\r\n0\r\n\r\n",
      };
      for (const [shape, bytes] of Object.entries(shapes)) {
        const answer = await rawExchange(port, bytes);
        assert.match(answer, /^HTTP\/1\.1 400 /, shape);
        assert.match(answer, /content-type: application\/problem\+json/i, shape);
        assert.match(answer, /"code":"BAD_REQUEST"/, shape);
      }
      const big = await rawExchange(port, `GET /v1/echo HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(10_000)}\r\n\r\n`);
      assert.match(big, /^HTTP\/1\.1 431 /);
      assert.match(big, /"code":"HEADERS_TOO_LARGE"/);
      assert.equal(worker.received.length, 0, "no rejected request reached the worker");
      assert.equal(await (await fetch(`${gw.url}/v1/echo`, { method: "POST", body: "fine" })).text(), "fine");
    } finally {
      await gw.stop();
      worker.close();
    }
  });

  test("the listener holds at most maxConnections connections", async () => {
    const worker = await startWorker(echo);
    const gw = await startGateway({ http: { host: "127.0.0.1", port: 0, maxConnections: 2 }, services: { echo: { workers: [worker.endpoint] } } });
    const sockets = [connect(gw.addresses.httpPort, "127.0.0.1"), connect(gw.addresses.httpPort, "127.0.0.1")];
    try {
      await Promise.all(sockets.map((socket) => new Promise((resolve) => socket.once("connect", resolve))));
      const third = await rawExchange(gw.addresses.httpPort, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
      assert.equal(third, "", "the third connection is closed without an answer");
      for (const socket of sockets) socket.destroy();
      await waitUntil(async () => (await rawExchange(gw.addresses.httpPort, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")).startsWith("HTTP/1.1 200"), "a free slot");
    } finally {
      for (const socket of sockets) socket.destroy();
      await gw.stop();
      worker.close();
    }
  });

  test("Set-Cookie from a worker passes only where the service allows it", async () => {
    const worker = await startWorker(() => ["ok", JSON.stringify({ headers: { "set-cookie": "session=1", "x-ok": "1" } })]);
    const gw = await startGateway({ services: { strict: { mode: "meta", workers: [worker.endpoint] }, cookies: { mode: "meta", allowSetCookie: true, workers: [worker.endpoint] } } });
    try {
      await gw.waitForWorkers("strict", 1);
      await gw.waitForWorkers("cookies", 1);
      const strict = await fetch(`${gw.url}/v1/strict`);
      assert.equal(strict.headers.get("set-cookie"), null);
      assert.equal(strict.headers.get("x-ok"), "1");
      const cookies = await fetch(`${gw.url}/v1/cookies`);
      assert.equal(cookies.headers.get("set-cookie"), "session=1");
    } finally {
      await gw.stop();
      worker.close();
    }
  });

  test("garbage bytes on ZeroMQ ports cost nothing: the gateway keeps serving", async () => {
    const worker = await startWorker(echo);
    const gw = await startGateway({ services: { svc: { workers: [worker.endpoint], bind: "tcp://127.0.0.1:0", frontend: "tcp://127.0.0.1:0" } } });
    try {
      await gw.waitForWorkers("svc", 1);
      for (const endpoint of [gw.addresses.binds.svc!, gw.addresses.frontends.svc!]) {
        const port = Number(endpoint.split(":").pop());
        // All at once: each garbage connection lives until libzmq drops it or the 3 s cap.
        await Promise.all([
          ...Array.from({ length: 20 }, (_, i) => rawExchange(port, randomBytes(1 + i * 97))),
          // A ZMTP greeting that claims a huge frame, then silence.
          rawExchange(port, Buffer.concat([Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f, 3, 0]), randomBytes(60)])),
        ]);
      }
      const services = await gw.services();
      assert.equal(services.services[0]!.workers.find((w) => w.joined === "connect-in")!.peers, 0, "garbage never counts as a worker");
      assert.equal(await (await fetch(`${gw.url}/v1/svc`, { method: "POST", body: "still here" })).text(), "still here");
    } finally {
      await gw.stop();
      worker.close();
    }
  });
});
