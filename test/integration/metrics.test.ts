import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { after, before, describe, test } from "node:test";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { waitUntil } from "../helpers/wait.js";
import { echo, startWorker, type InProcessWorker } from "../helpers/workers.js";

/** One metric family as parse-prometheus-text-format returns it (values are strings). */
interface Family {
  name: string;
  help: string;
  type: string;
  metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }[];
}
const load = createRequire(import.meta.url);
const parsePrometheus = load("parse-prometheus-text-format") as (text: string) => Family[];

const seriesKey = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}="${value}"`)
    .join(",")}}`;

/**
 * Every series of a scrape as `name{labels}` -> value, parsed with
 * parse-prometheus-text-format (which throws on a malformed line). That package merges
 * the label sets of a histogram into one, so each histogram series is parsed again on its
 * own, its labels lifted out: `_count` and the `+Inf` bucket then come back per series.
 */
function parseScrape(text: string): Map<string, number> {
  const families = parsePrometheus(text);
  const samples = new Map<string, number>();
  for (const family of families) {
    assert.ok(family.help, `${family.name} has HELP`);
    assert.ok(["COUNTER", "GAUGE", "HISTOGRAM"].includes(family.type), `${family.name} has a TYPE`);
    if (family.type === "HISTOGRAM") continue;
    for (const metric of family.metrics) samples.set(seriesKey(family.name, metric.labels ?? {}), Number(metric.value));
  }
  for (const family of families.filter((candidate) => candidate.type === "HISTOGRAM")) {
    const bySeries = new Map<string, string[]>();
    for (const line of text.split("\n").filter((candidate) => candidate.startsWith(`${family.name}_`))) {
      const labels = (/\{(.*)\}/.exec(line)?.[1] ?? "").split(",").filter(Boolean);
      const series = labels.filter((label) => !label.startsWith("le=")).join(",");
      const le = labels.find((label) => label.startsWith("le="));
      bySeries.set(series, [...(bySeries.get(series) ?? []), line.replace(/\{.*\}/, le ? `{${le}}` : "")]);
    }
    for (const [series, lines] of bySeries) {
      const [parsed] = parsePrometheus(`# HELP ${family.name} x\n# TYPE ${family.name} histogram\n${lines.join("\n")}\n`);
      const metrics = parsed?.metrics ?? [];
      const count = Number(metrics.find((metric) => metric.count !== undefined)?.count);
      const infinity = Number(metrics.find((metric) => metric.buckets)?.buckets?.["+Inf"]);
      assert.equal(infinity, count, `${family.name}{${series}}: the +Inf bucket equals _count`);
      samples.set(`${family.name}_count{${series}}`, count);
    }
  }
  return samples;
}

describe("GET /metrics on the admin listener", () => {
  let gw: TestGateway;
  const workers: InProcessWorker[] = [];
  const flaky: InProcessWorker[] = [];

  before(async () => {
    const slow = await startWorker(async (frames) => {
      await new Promise((resolve) => setTimeout(resolve, 250));
      return frames;
    });
    let died = false;
    const dieOnce = (index: number) => (frames: Buffer[]) => {
      if (died) return frames;
      died = true;
      flaky[index]?.close();
      return [];
    };
    flaky.push(await startWorker(dieOnce(0)), await startWorker(dieOnce(1)));
    const [plain, bad] = [await startWorker(echo), await startWorker(() => ["one", "two"])];
    workers.push(slow, plain, bad, ...flaky);
    gw = await startGateway({
      services: {
        echo: { workers: [plain.endpoint] },
        slow: { workers: [slow.endpoint], timeoutMs: 100, outlier: { consecutiveTimeouts: 10 } },
        bad: { workers: [bad.endpoint] },
        flaky: { workers: flaky.map((worker) => worker.endpoint) },
      },
    });
    for (const [name, count] of [["echo", 1], ["slow", 1], ["bad", 1], ["flaky", 2]] as const) await gw.waitForWorkers(name, count);
  });

  after(async () => {
    await gw.stop();
    for (const worker of workers) worker.close();
  });

  const scrape = async () => {
    const response = await fetch(`${gw.adminUrl}/metrics`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    return parseScrape(await response.text());
  };
  const counter = async (service: string, name: string) =>
    (await gw.services()).services.find((candidate) => candidate.name === service)?.counters[name] ?? 0;

  test("every counter moves by exactly the number of calls, timeouts and errors made, and nothing else moves", async () => {
    const before = await scrape();

    for (let i = 0; i < 5; i++) assert.equal((await fetch(`${gw.url}/v1/echo`, { method: "POST", body: `n${i}` })).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${gw.url}/v1/echo/item`)).status, 200);
    for (let i = 1; i <= 2; i++) {
      assert.equal((await fetch(`${gw.url}/v1/slow`, { method: "POST", body: "late" })).status, 504);
      await waitUntil(async () => (await counter("slow", "lateReplies")) >= i, `late reply ${i}`);
    }
    for (let i = 0; i < 2; i++) assert.equal((await fetch(`${gw.url}/v1/bad`, { method: "POST", body: "x" })).status, 502);
    assert.equal((await fetch(`${gw.url}/v1/flaky`)).status, 200, "a GET whose worker died is retried on the other");
    assert.equal((await fetch(`${gw.url}/v1/nope`, { method: "POST" })).status, 404);

    const after = await scrape();
    const expected: Record<string, number> = {
      'zmq_gateway_http_requests_total{method_class="unsafe",service="echo",status="200"}': 5,
      'zmq_gateway_http_requests_total{method_class="safe",service="echo",status="200"}': 3,
      'zmq_gateway_http_requests_total{method_class="unsafe",service="slow",status="504"}': 2,
      'zmq_gateway_http_requests_total{method_class="unsafe",service="bad",status="502"}': 2,
      'zmq_gateway_http_requests_total{method_class="safe",service="flaky",status="200"}': 1,
      'zmq_gateway_http_requests_total{method_class="unsafe",service="(unknown)",status="404"}': 1,
      'zmq_gateway_http_request_duration_seconds_count{service="echo"}': 8,
      'zmq_gateway_http_request_duration_seconds_count{service="slow"}': 2,
      'zmq_gateway_http_request_duration_seconds_count{service="bad"}': 2,
      'zmq_gateway_http_request_duration_seconds_count{service="flaky"}': 1,
      'zmq_gateway_http_request_duration_seconds_count{service="(unknown)"}': 1,
      'zmq_gateway_worker_requests_total{service="echo"}': 8,
      'zmq_gateway_worker_requests_total{service="slow"}': 2,
      'zmq_gateway_worker_requests_total{service="bad"}': 2,
      'zmq_gateway_worker_requests_total{service="flaky"}': 2,
      'zmq_gateway_worker_replies_total{service="echo"}': 8,
      'zmq_gateway_worker_replies_total{service="bad"}': 2,
      'zmq_gateway_worker_replies_total{service="flaky"}': 1,
      'zmq_gateway_timeouts_total{service="slow",stage="in_flight"}': 2,
      'zmq_gateway_late_replies_total{service="slow"}': 2,
      'zmq_gateway_bad_replies_total{service="bad"}': 2,
      'zmq_gateway_retries_total{service="flaky"}': 1,
      'zmq_gateway_worker_lost_requests_total{service="flaky"}': 1,
      'zmq_gateway_worker_disconnects_total{service="flaky"}': 1,
      'zmq_gateway_connected_workers{service="flaky"}': -1,
    };
    const moved: Record<string, number> = {};
    for (const key of new Set([...before.keys(), ...after.keys()])) {
      const delta = (after.get(key) ?? 0) - (before.get(key) ?? 0);
      if (delta !== 0) moved[key] = delta;
    }
    assert.deepEqual(moved, expected);
    for (const name of ["in_flight_requests", "queued_requests"]) {
      for (const service of ["echo", "slow", "bad", "flaky"]) assert.equal(after.get(`zmq_gateway_${name}{service="${service}"}`), 0);
    }
  });
});
