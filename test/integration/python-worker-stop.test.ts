/**
 * The Python example workers end on SIGTERM at once, also when it comes just as they go
 * back to a blocking recv() after a reply: a Python-level handler runs only between
 * bytecodes, so there it waited for a next request that a stopped gateway never sends
 * (a cold start hit that window in about two runs of three).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Dealer } from "zeromq";
import { spawnPythonWorker } from "../helpers/workers.js";

const ROUNDS = 5;

for (const name of ["echo_worker", "traced_worker"]) {
  test(`${name}.py ends at once on SIGTERM, even right after a reply`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const worker = await spawnPythonWorker(name);
      const dealer = new Dealer({ linger: 0 });
      try {
        dealer.connect(worker.endpoint);
        await dealer.send(["id", "", "hello"]);
        const [id, delimiter, body] = await dealer.receive();
        assert.equal(id?.toString(), "id");
        assert.equal(delimiter?.length, 0);
        assert.match(body?.toString() ?? "", /"echo": "hello"/);
      } finally {
        dealer.close();
      }
      // Rejects, naming the script, when the worker is still there 2 s after SIGTERM.
      await worker.stop(2_000);
    }
  });
}
