import assert from "node:assert/strict";
import { test } from "node:test";
import { Histogram, Registry } from "prom-client";
import { RequestTally } from "../../src/telemetry/request-tally.js";

test("the tally's histogram renders as prom-client's own Histogram fed the same observations", async () => {
  const bounds = [0.001, 0.01, 0.1, 1];
  const observations: [string, number][] = [
    ["echo", 0.0005],
    ["echo", 0.001], // on a bound: counted in that bucket (le is inclusive)
    ["echo", 0.05],
    ["echo", 7], // past the last bound: +Inf only
    ["slow", 0.2],
  ];
  const tally = new RequestTally(bounds);
  const ours = new Registry();
  ours.registerMetric(tally.histogram("t_seconds", "help"));
  const theirs = new Registry();
  const reference = new Histogram({ name: "t_seconds", help: "help", labelNames: ["service"], buckets: bounds, registers: [theirs] });
  for (const [service, seconds] of observations) {
    tally.record(service, "safe", 200, seconds);
    reference.observe({ service }, seconds);
  }
  assert.equal(await ours.metrics(), await theirs.metrics());
});

test("request counts are kept per service, method class and status", () => {
  const tally = new RequestTally([1]);
  tally.record("echo", "safe", 200, 0.1);
  tally.record("echo", "safe", 200, 0.1);
  tally.record("echo", "unsafe", 503, 0.1);
  assert.deepEqual(
    [...tally.countSeries()].map((series) => ({ ...series.labels, value: series.value })),
    [
      { service: "echo", method_class: "safe", status: "200", value: 2 },
      { service: "echo", method_class: "unsafe", status: "503", value: 1 },
    ],
  );
});
