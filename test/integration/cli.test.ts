import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { runCli, spawnGateway, writeConfigFile } from "../helpers/gateway-process.js";
import { waitUntil } from "../helpers/wait.js";
import { startWorker } from "../helpers/workers.js";

/** sched(7) policy numbers of a process's libzmq I/O threads, from /proc (Linux). */
function ioThreadPolicies(pid: number): number[] {
  const policies: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    if (!readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").startsWith("ZMQbg/IO")) continue;
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    // Fields after the command name start at field 3 (state); the policy is field 41.
    policies.push(Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[41 - 3]));
  }
  return policies;
}

describe("the zmq-gateway command", () => {
  test("--help and --version answer and exit 0", async () => {
    const help = await runCli(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: zmq-gateway/);
    const version = await runCli(["--version"]);
    assert.equal(version.code, 0);
    assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
  });

  const invalid: [string, unknown, RegExp][] = [
    ["a bad timeout", { services: { echo: { timeoutMs: -5 } } }, /services\.echo\.timeoutMs: .*\(got -5\)/],
    ["a bad endpoint", { services: { echo: { workers: ["http://x:1"] } } }, /services\.echo\.workers\.0/],
    ["an unknown key", { services: { echo: { tiemout: 5 } } }, /services\.echo.*unknown key "tiemout"/],
    ["a bad service name", { services: { "Bad Name!": {} } }, /services\.Bad Name!/],
    ["a default over the maximum", { services: { echo: { timeoutMs: 5000, maxTimeoutMs: 100 } } }, /services\.echo\.timeoutMs: must not exceed maxTimeoutMs/],
    ["a bad port", { http: { port: 70000 } }, /http\.port: .*\(got 70000\)/],
  ];
  for (const [what, config, message] of invalid) {
    test(`a config with ${what} exits 2 with a message naming the field`, async () => {
      const result = await runCli(["--config", writeConfigFile(config)]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split("\n").length, 1, "one message");
      assert.equal(result.stdout, "", "nothing started");
    });
  }

  test("unreadable or malformed config files and bad flags exit 2", async () => {
    assert.equal((await runCli(["--config", "/nonexistent/gateway.yaml"])).code, 2);
    assert.equal((await runCli(["--config", writeConfigFile("services: [unclosed")])).code, 2);
    assert.equal((await runCli(["--bogus"])).code, 2);
    const env = await runCli([], { ZMQ_GATEWAY_PORT: "eighty" });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /ZMQ_GATEWAY_PORT/);
  });

  test("ZMQ_GATEWAY_SERVICES configures a service from one line", async () => {
    const worker = await startWorker((frames) => frames);
    const gw = await spawnGateway([], { ZMQ_GATEWAY_SERVICES: `echo=${worker.endpoint}` });
    try {
      await waitUntil(async () => (await fetch(`${gw.url}/v1/echo`, { method: "POST", body: "env" })).status === 200, "the env service to answer");
      assert.equal(await (await fetch(`${gw.url}/v1/echo`, { method: "POST", body: "env" })).text(), "env");
    } finally {
      gw.child.kill("SIGTERM");
      await gw.exited;
      worker.close();
    }
  });

  test("libzmq's I/O thread runs under SCHED_BATCH by default, under the OS default with ioThreadScheduling: normal", { skip: process.platform !== "linux" }, async () => {
    const worker = await startWorker((frames) => frames);
    const SCHED_OTHER = 0;
    const SCHED_BATCH = 3;
    for (const [scheduling, expected] of [[undefined, SCHED_BATCH], ["normal", SCHED_OTHER]] as const) {
      const file = writeConfigFile({ ...(scheduling && { zmq: { ioThreadScheduling: scheduling } }), services: { echo: { workers: [worker.endpoint] } } });
      const gw = await spawnGateway(["--config", file]);
      try {
        await waitUntil(async () => (await fetch(`${gw.url}/v1/echo`, { method: "POST", body: "x" })).status === 200, "the worker to answer");
        const policies = ioThreadPolicies(gw.child.pid!);
        assert.ok(policies.length >= 1, "the gateway has a libzmq I/O thread");
        assert.deepEqual(new Set(policies), new Set([expected]), `ioThreadScheduling ${scheduling ?? "(default)"}`);
      } finally {
        gw.child.kill("SIGTERM");
        await gw.exited;
      }
    }
    worker.close();
  });

  test("log.access: false writes no access line, on either listener, and the lines it does write still arrive", async () => {
    const worker = await startWorker((frames) => frames);
    const file = writeConfigFile({ log: { access: false }, services: { echo: { workers: [worker.endpoint] } } });
    const gw = await spawnGateway(["--config", file]);
    try {
      await waitUntil(async () => (await fetch(`${gw.url}/v1/echo`, { method: "POST", body: "x" })).status === 200, "the worker to answer");
      assert.equal((await fetch(`${gw.adminUrl}/admin/services`)).status, 200);
    } finally {
      gw.child.kill("SIGTERM");
      assert.equal((await gw.exited).code, 0);
      worker.close();
    }
    // An orderly exit flushes the log buffer: every line the gateway wrote is in by now.
    assert.ok(gw.logs.some((line) => line.event === "stopped"), "the last line arrived");
    assert.deepEqual(gw.logs.filter((line) => line.event === "access"), []);
  });

  test("SIGTERM with requests in flight answers every one of them and exits 0", async () => {
    const worker = await startWorker(async (frames) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return frames;
    });
    const file = writeConfigFile({ drainTimeoutMs: 5_000, services: { echo: { workers: [worker.endpoint] } } });
    const gw = await spawnGateway(["--config", file]);
    try {
      await waitUntil(async () => (await fetch(`${gw.url}/readyz`)).status === 200 && (await fetch(`${gw.url}/v1/echo`, { method: "POST", body: "warm" })).status === 200, "the worker to connect");
      const calls = Array.from({ length: 20 }, (_, i) =>
        fetch(`${gw.url}/v1/echo`, { method: "POST", body: `drain-${i}` }).then(async (r) => ({ status: r.status, body: await r.text() })),
      );
      // Every request has reached the gateway (SIGTERM may refuse connections not yet accepted).
      await waitUntil(
        async () => ((await (await fetch(`${gw.adminUrl}/admin/services`)).json()) as { services: { counters: { submitted: number } }[] }).services[0]!.counters.submitted >= 21,
        "all 20 requests to reach the gateway",
      );
      assert.ok(worker.received.length < 21, "some requests are still queued or in flight at SIGTERM");
      gw.child.kill("SIGTERM");
      const results = await Promise.all(calls);
      const { code, signal } = await gw.exited;
      assert.equal(code, 0, `exit ${code} ${signal}`);
      results.forEach((result, i) => {
        assert.equal(result.status, 200);
        assert.equal(result.body, `drain-${i}`);
      });
      assert.ok(gw.logs.some((line) => line.event === "stopped"));
    } finally {
      gw.child.kill("SIGKILL");
      worker.close();
    }
  });

  test("SIGTERM answers 503 by the drain deadline when a worker never replies, and exits 0", async () => {
    const worker = await startWorker(() => new Promise<Buffer[]>(() => {}));
    const file = writeConfigFile({ drainTimeoutMs: 300, services: { stuck: { workers: [worker.endpoint], timeoutMs: 60_000 } } });
    const gw = await spawnGateway(["--config", file]);
    try {
      await waitUntil(async () => ((await (await fetch(`${gw.adminUrl}/admin/services`)).json()) as { services: { connectedWorkers: number }[] }).services[0]!.connectedWorkers === 1, "the worker to connect");
      const call = fetch(`${gw.url}/v1/stuck`, { method: "POST", body: "x" });
      await waitUntil(() => worker.received.length === 1, "the request to be in flight");
      gw.child.kill("SIGTERM");
      const response = await call;
      assert.equal(response.status, 503);
      assert.equal(((await response.json()) as { code: string }).code, "DRAINING");
      assert.equal((await gw.exited).code, 0);
    } finally {
      gw.child.kill("SIGKILL");
      worker.close();
    }
  });
});
