/**
 * A misbehaving worker process (test/fixtures/bad-worker.ts, a raw ROUTER) answering in bad
 * ways: garbage, extra or missing frames, bad reply meta, oversized frames, replies to ids
 * that are not the request's. The gateway answers 502 or 504 as fits, keeps serving the
 * good workers of the same pool and of other services, and its counters add up.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { assertAtRest } from "../helpers/invariants.js";
import { waitUntil } from "../helpers/wait.js";
import { echo, spawnBadWorker, startWorker, type WorkerProcess } from "../helpers/workers.js";

interface Answer {
  status: number;
  text: string;
  code: string | undefined;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { method: "POST", ...init });
  const text = await response.text();
  let code: string | undefined;
  if (response.headers.get("content-type") === "application/problem+json")
    code = (JSON.parse(text) as { code: string }).code;
  return { status: response.status, text, code };
}

/** Two calls at once on a pool of two idle workers: each worker gets exactly one. */
async function callBoth(url: string, body: string): Promise<Answer[]> {
  const answers = await Promise.all([call(url, { body }), call(url, { body })]);
  return answers.sort((a, b) => a.status - b.status);
}

async function stopAll(
  gw: TestGateway | undefined,
  processes: WorkerProcess[],
  workers: { close(): void }[],
): Promise<void> {
  await gw?.stop();
  for (const worker of workers) worker.close();
  for (const worker of processes) worker.kill("SIGKILL");
  await Promise.all(processes.map((worker) => worker.exited));
}

async function counters(gw: TestGateway, service: string): Promise<Record<string, number>> {
  return { ...(await gw.services()).services.find((s) => s.name === service)!.counters };
}

describe("a misbehaving worker process", () => {
  test("garbage, extra or missing frames, non-UTF-8 meta and unsafe reply meta are 502 BAD_REPLY while the good worker and other services keep answering", async () => {
    const bad = await spawnBadWorker();
    const good = await startWorker(echo);
    let gw: TestGateway | undefined;
    try {
      gw = await startGateway({
        services: {
          meta: { mode: "meta", workers: [bad.endpoint, good.endpoint] },
          plain: { workers: [bad.endpoint, good.endpoint] },
          other: { workers: [good.endpoint] },
        },
      });
      await gw.waitForWorkers("meta", 2);
      await gw.waitForWorkers("plain", 2);
      await gw.waitForWorkers("other", 1);
      const cases: [string, string[]][] = [
        [
          "meta",
          [
            "garbage",
            "extra",
            "empty",
            "non-utf8",
            "control-header",
            "unicode-header",
            "crlf-header",
            "huge-status",
            "array-meta",
          ],
        ],
        ["plain", ["garbage", "extra", "empty"]],
      ];
      for (const [service, modes] of cases) {
        for (const mode of modes) {
          const [fine, broken] = await callBoth(`${gw.url}/v1/${service}`, mode);
          assert.deepEqual(
            { status: fine!.status, text: fine!.text },
            { status: 200, text: mode },
            `${service} ${mode}: the good worker answers`,
          );
          assert.equal(broken!.status, 502, `${service} ${mode}: ${broken!.text}`);
          assert.equal(broken!.code, "BAD_REPLY", `${service} ${mode}`);
          assert.doesNotMatch(broken!.text, /stack|at \w+ \(/, "no internals in the problem");
          const other = await call(`${gw.url}/v1/other`, { body: mode });
          assert.deepEqual({ status: other.status, text: other.text }, { status: 200, text: mode });
        }
        const at = await assertAtRest(() => gw!.services(), service);
        assert.equal(
          at.counters.badReplies,
          modes.length,
          `${service}: one bad reply counted per mode`,
        );
        assert.equal(
          at.counters.replied,
          modes.length * 2,
          `${service}: a bad reply is still a reply: the worker stays in service`,
        );
      }
      await assertAtRest(() => gw!.services(), "other");
    } finally {
      await stopAll(gw, [bad], [good]);
    }
  });

  test("a reply over maxReplyBytes is 502 REPLY_TOO_LARGE; a frame past maxMessageSize drops the connection: 502 WORKER_LOST, or a retry on the good worker for a GET", async () => {
    const bad = await spawnBadWorker();
    const good = await startWorker(echo);
    let gw: TestGateway | undefined;
    try {
      gw = await startGateway({
        services: {
          small: { maxReplyBytes: 1_024, workers: [bad.endpoint] },
          wide: { mode: "meta", workers: [bad.endpoint, good.endpoint] }, // default maxReplyBytes: 16 MiB
          other: { workers: [good.endpoint] },
        },
      });
      for (const [service, count] of [
        ["small", 1],
        ["wide", 2],
        ["other", 1],
      ] as const)
        await gw.waitForWorkers(service, count);

      const tooLarge = await call(`${gw.url}/v1/small`, { body: "sized:2000" });
      assert.deepEqual([tooLarge.status, tooLarge.code], [502, "REPLY_TOO_LARGE"]);
      // 1 KiB + 64 KiB is the most libzmq accepts in one message on this link.
      const pastLimit = await call(`${gw.url}/v1/small`, { body: "sized:200000" });
      assert.deepEqual([pastLimit.status, pastLimit.code], [502, "WORKER_LOST"]);
      await gw.waitForWorkers("small", 1);
      const fine = await call(`${gw.url}/v1/small`, { body: "sized:100" });
      assert.deepEqual(
        [fine.status, fine.text.length],
        [200, 100],
        "the reconnected worker is served again",
      );

      // 50 MiB against the default limit, on a pool that also has a good worker.
      const [kept, lost] = await callBoth(`${gw.url}/v1/wide/big`, "x");
      assert.deepEqual([kept!.status, kept!.text], [200, "x"]);
      assert.deepEqual([lost!.status, lost!.code], [502, "WORKER_LOST"], "a POST is not retried");
      await gw.waitForWorkers("wide", 2);
      const gets = await Promise.all([
        call(`${gw.url}/v1/wide/big`, { method: "GET" }),
        call(`${gw.url}/v1/wide/big`, { method: "GET" }),
      ]);
      assert.deepEqual(
        gets.map((answer) => answer.status),
        [200, 200],
        "the GET the bad worker lost was retried on the good one",
      );
      assert.equal((await call(`${gw.url}/v1/other`, { body: "still" })).text, "still");

      const small = await assertAtRest(() => gw!.services(), "small");
      assert.deepEqual([small.counters.lost, small.counters.badReplies], [1, 1]);
      const wide = await assertAtRest(() => gw!.services(), "wide");
      assert.equal(wide.counters.lost, 2);
      assert.equal(wide.counters.retries, 1);
      await assertAtRest(() => gw!.services(), "other");
    } finally {
      await stopAll(gw, [bad], [good]);
    }
  });

  test("on a connect-in endpoint a frame past maxMessageSize drops only that peer: its request runs to a 504 and the endpoint keeps serving", async () => {
    let gw: TestGateway | undefined;
    const processes: WorkerProcess[] = [];
    const workers: { close(): void }[] = [];
    try {
      gw = await startGateway({
        services: {
          in: { bind: "tcp://127.0.0.1:0", maxReplyBytes: 4_096 },
          other: { bind: "tcp://127.0.0.1:0" },
        },
      });
      const bind = gw.addresses.binds.in!;
      processes.push(await spawnBadWorker({ WORKER_CONNECT: bind }));
      const good = await startWorker(echo, { connect: gw.addresses.binds.other! });
      workers.push(good);
      await gw.waitForWorkers("in", 1);
      await gw.waitForWorkers("other", 1);

      const dropped = await call(`${gw.url}/v1/in`, {
        body: "sized:200000",
        headers: { "request-timeout": "500ms" },
      });
      assert.deepEqual(
        [dropped.status, dropped.code],
        [504, "TIMEOUT"],
        "a lost connect-in peer's request cannot be told apart: it runs to its deadline",
      );
      // The peer reconnects by itself, and a good worker joins it.
      const second = await startWorker(echo, { connect: bind });
      workers.push(second);
      await waitUntil(
        async () =>
          (await gw!.services()).services.find((s) => s.name === "in")!.workers[0]!.peers === 2,
        "both peers on the endpoint",
      );
      const answers = await Promise.all(
        Array.from({ length: 6 }, (_, i) => call(`${gw!.url}/v1/in`, { body: `echo ${i}` })),
      );
      assert.deepEqual(
        answers.map((answer) => answer.status),
        Array(6).fill(200),
      );
      assert.equal((await call(`${gw.url}/v1/other`, { body: "still" })).text, "still");
      const at = await assertAtRest(() => gw!.services(), "in");
      assert.equal(at.counters.timedOutInFlight, 1);
      await assertAtRest(() => gw!.services(), "other");
    } finally {
      await stopAll(gw, processes, workers);
    }
  });

  test("replies to a made-up id, to another request's id, or replays of an earlier reply never answer the wrong request", async () => {
    const bad = await spawnBadWorker();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const gated = await startWorker(async (frames) => {
      await gate;
      return frames;
    });
    let gw: TestGateway | undefined;
    try {
      gw = await startGateway({
        services: {
          madeup: { workers: [bad.endpoint] },
          noenvelope: { workers: [bad.endpoint] },
          replay: { workers: [bad.endpoint] },
          mixed: { workers: [gated.endpoint] },
        },
      });
      for (const service of ["madeup", "noenvelope", "replay", "mixed"])
        await gw.waitForWorkers(service, 1);
      const short = { "request-timeout": "400ms" };

      const [madeUp, noEnvelope] = await Promise.all([
        call(`${gw.url}/v1/madeup`, { body: "made-up-id", headers: short }),
        call(`${gw.url}/v1/noenvelope`, { body: "no-envelope", headers: short }),
      ]);
      assert.deepEqual([madeUp.status, madeUp.code], [504, "TIMEOUT"]);
      assert.deepEqual([noEnvelope.status, noEnvelope.code], [504, "TIMEOUT"]);
      assert.equal(
        (await counters(gw, "madeup")).unknownReplies,
        1,
        "another instance's id is unknown",
      );
      assert.equal((await counters(gw, "noenvelope")).unknownReplies, 1);

      // Each reply is preceded by a replay of the one before, under the earlier id.
      for (let i = 1; i <= 5; i++) {
        const answer = await call(`${gw.url}/v1/replay`, { body: `replay:${i}` });
        assert.deepEqual([answer.status, answer.text], [200, `replay:${i}`]);
      }
      assert.equal(
        (await counters(gw, "replay")).lateReplies,
        4,
        "every replay was dropped as late",
      );

      // A is held by the gated worker; B goes to the bad one, which answers with A's id.
      const first = call(`${gw.url}/v1/mixed`, { body: "A" });
      await waitUntil(() => gated.received.length === 1, "A at the gated worker");
      const registered = await fetch(`${gw.adminUrl}/admin/services/mixed/workers`, {
        method: "POST",
        body: JSON.stringify({ endpoint: bad.endpoint }),
      });
      assert.equal(registered.status, 201);
      await gw.waitForWorkers("mixed", 2);
      const second = call(`${gw.url}/v1/mixed`, { body: "previous-id", headers: short });
      await waitUntil(
        async () => (await counters(gw!, "mixed")).lateReplies === 1,
        "the forged reply to be dropped",
      );
      release();
      const [a, b] = await Promise.all([first, second]);
      assert.deepEqual(
        [a.status, a.text],
        [200, "A"],
        "A got its own worker's answer, not the forgery",
      );
      assert.deepEqual([b.status, b.code], [504, "TIMEOUT"]);

      for (const service of ["madeup", "noenvelope", "replay", "mixed"])
        await assertAtRest(() => gw!.services(), service);
    } finally {
      release();
      await stopAll(gw, [bad], [gated]);
    }
  });
});
