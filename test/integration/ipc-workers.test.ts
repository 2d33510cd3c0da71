/**
 * Workers on the gateway's own host over ipc:// (Unix-domain sockets), the three ways a
 * worker joins: the gateway connects out to a bound Node and a bound Python worker (from
 * config), a Node worker connects in to a service that binds an ipc:// path, and a worker
 * registered at run time over the admin API when `admin.allowedWorkerHosts` lists "ipc".
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { after, before, describe, test } from "node:test";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { spawnNodeWorker, spawnPythonWorker, type WorkerProcess } from "../helpers/workers.js";

describe("workers over ipc://", () => {
  const dir = mkdtempSync(`${tmpdir()}/zgw-ipc-`);
  const endpoint = (name: string) => `ipc://${dir}/${name}.sock`;
  const workers: WorkerProcess[] = [];
  let gw: TestGateway;

  before(async () => {
    const node = await spawnNodeWorker("echo-worker", { WORKER_BIND: endpoint("node") });
    const python = await spawnPythonWorker("echo_worker", { WORKER_BIND: endpoint("python") });
    workers.push(node, python);
    assert.equal(node.endpoint, endpoint("node"), "the worker reports the ipc endpoint it bound");
    gw = await startGateway({
      admin: { host: "127.0.0.1", port: 0, allowedWorkerHosts: ["ipc"] },
      services: {
        node: { workers: [node.endpoint] },
        py: { workers: [python.endpoint] },
        inbound: { bind: endpoint("inbound") },
        registered: {},
      },
    });
    workers.push(await spawnNodeWorker("echo-worker", { WORKER_CONNECT: endpoint("inbound") }));
    for (const name of ["node", "py", "inbound"]) await gw.waitForWorkers(name, 1);
  });

  after(async () => {
    await gw.stop();
    for (const worker of workers) await worker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the gateway connects out to a bound Node worker and a bound Python worker", async () => {
    const node = await fetch(`${gw.url}/v1/node`, { method: "POST", body: "over a unix socket" });
    assert.equal(node.status, 200);
    assert.equal(await node.text(), "over a unix socket");
    const python = await fetch(`${gw.url}/v1/py`, { method: "POST", body: "hello" });
    assert.equal(python.status, 200);
    assert.deepEqual(await python.json(), { worker: "python", echo: "hello" });
  });

  test("a worker connects in to a service bound on an ipc:// path", async () => {
    const response = await fetch(`${gw.url}/v1/inbound`, { method: "POST", body: "connected in" });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "connected in");
  });

  test("an ipc:// worker registered at run time serves, and the admin API shows its endpoint", async () => {
    const worker = await spawnNodeWorker("echo-worker", { WORKER_BIND: endpoint("late") });
    workers.push(worker);
    const register = await fetch(`${gw.adminUrl}/admin/services/registered/workers`, {
      method: "POST",
      body: JSON.stringify({ endpoint: worker.endpoint }),
    });
    assert.equal(register.status, 201);
    await gw.waitForWorkers("registered", 1);
    const response = await fetch(`${gw.url}/v1/registered`, { method: "POST", body: "late joiner" });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "late joiner");
    const service = (await gw.services()).services.find((s) => s.name === "registered");
    assert.deepEqual(service?.workers.map((w) => [w.endpoint, w.connected, w.served]), [[endpoint("late"), true, 1]]);
  });
});
