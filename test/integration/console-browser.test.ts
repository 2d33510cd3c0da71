/**
 * The console and the API reference in a real browser (Debian's Chromium driven by
 * playwright-core) against a real gateway with real worker processes and an admin token.
 * Screenshots go to test-artifacts/. Every page must load everything from the gateway
 * itself and run without script errors.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { parse as parseYaml } from "yaml";
import {
  browserMissing,
  launchChromium,
  openPage,
  saveScreenshot,
  type WatchedPage,
} from "../browser/chromium.js";
import { startGateway, type TestGateway } from "../helpers/gateway.js";
import { repoRoot } from "../helpers/paths.js";
import { waitUntil } from "../helpers/wait.js";
import { spawnNodeWorker, type WorkerProcess } from "../helpers/workers.js";

const TOKEN = "console-browser-token-0123456789";
const bearer = { authorization: `Bearer ${TOKEN}` };

interface Listed {
  services: {
    name: string;
    connectedWorkers: number;
    workers: { id: string; endpoint: string; state: string }[];
  }[];
}

function operationCount(): number {
  const document = parseYaml(readFileSync(`${repoRoot}openapi.yaml`, "utf8")) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const methods = ["get", "head", "post", "put", "patch", "delete", "options", "trace"];
  return Object.values(document.paths).reduce(
    (sum, item) => sum + methods.filter((method) => item[method] !== undefined).length,
    0,
  );
}

describe("the console in a browser", { skip: browserMissing() }, () => {
  let gw: TestGateway;
  let echoWorker: WorkerProcess;
  let browser: Browser;
  const pages: WatchedPage[] = [];

  const listed = async (): Promise<Listed> =>
    (await (await fetch(`${gw.adminUrl}/admin/services`, { headers: bearer })).json()) as Listed;
  const workersOf = async (service: string) =>
    (await listed()).services.find((s) => s.name === service)?.workers ?? [];

  /** A fresh page (own sessionStorage) on the console, with the token entered and saved. */
  async function openConsole(viewport?: { width: number; height: number }): Promise<Page> {
    const watched = await openPage(browser, gw.adminUrl, viewport);
    pages.push(watched);
    const { page } = watched;
    await page.goto(`${gw.adminUrl}/admin/`);
    await page.locator("#notice", { hasText: "needs a token" }).waitFor();
    await page.getByLabel("Admin token").fill(TOKEN);
    await page.getByRole("button", { name: "Save" }).click();
    await page.locator("#live", { hasText: "live" }).waitFor();
    return page;
  }

  const stateCell = (page: Page, service: string, worker: string) =>
    page.locator(`tr[data-worker="${service}/${worker}"] td.state`);

  before(async () => {
    echoWorker = await spawnNodeWorker("echo-worker");
    gw = await startGateway(
      { services: { echo: { workers: [echoWorker.endpoint] }, spare: {}, fragile: {} } },
      { adminToken: TOKEN },
    );
    await waitUntil(
      async () => (await listed()).services.find((s) => s.name === "echo")?.connectedWorkers === 1,
      "the echo worker to connect",
    );
    browser = await launchChromium();
  });

  after(async () => {
    try {
      for (const watched of pages) await watched.close();
      await browser?.close();
      await gw?.stop();
    } finally {
      echoWorker?.kill();
      await echoWorker?.exited;
    }
    for (const watched of pages) {
      assert.deepEqual(watched.foreignRequests, [], "every request went to the gateway itself");
      assert.deepEqual(watched.errors, [], "no script errors");
    }
  });

  test("the console asks for the admin token, then lists every service with its workers", async () => {
    const page = await openConsole();
    assert.equal(
      await page.evaluate("sessionStorage.getItem('zmq-gateway.admin-token')"),
      TOKEN,
      "the token is kept for this tab only",
    );
    for (const name of ["echo", "spare", "fragile"])
      await page.locator(`tbody[data-service="${name}"]`).waitFor();
    const row = page.locator('tr[data-worker="echo/w1"]');
    assert.match(
      (await row.textContent()) ?? "",
      new RegExp(echoWorker.endpoint.replace(/[.]/g, "\\.")),
    );
    assert.match((await row.textContent()) ?? "", /config/);
    await stateCell(page, "echo", "w1").filter({ hasText: "idle" }).waitFor();
    assert.equal(
      await page.locator('tbody[data-service="echo"] td.workers-count').textContent(),
      "1 / 1",
    );
    assert.match(
      (await page.locator('tbody[data-service="spare"]').textContent()) ?? "",
      /No workers yet/,
    );
  });

  test("registering a worker through the form makes it appear, and a call to it succeeds", async () => {
    const worker = await spawnNodeWorker("echo-worker");
    try {
      const page = await openConsole();
      const form = page.locator("#register-form");
      await form.locator("select[name=service]").selectOption("spare");
      await form.locator("input[name=endpoint]").fill(worker.endpoint);
      await form.getByRole("button", { name: "Register" }).click();
      await form.locator("output", { hasText: "Registered w1 on spare." }).waitFor();
      await stateCell(page, "spare", "w1").filter({ hasText: "idle" }).waitFor();
      assert.match(
        (await page.locator('tr[data-worker="spare/w1"]').textContent()) ?? "",
        /admin/,
        "it joined through the admin API",
      );

      const response = await fetch(`${gw.url}/v1/spare`, {
        method: "POST",
        body: "registered from the console",
      });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), "registered from the console");

      await page.getByRole("button", { name: "Remove worker w1 of spare" }).click();
      await page.locator('tr[data-worker="spare/w1"]').waitFor({ state: "detached" });
      assert.deepEqual(await workersOf("spare"), []);
    } finally {
      worker.kill();
      await worker.exited;
    }
  });

  test("killing a worker process turns its row to disconnected within a few seconds", async () => {
    const worker = await spawnNodeWorker("echo-worker");
    try {
      const created = await fetch(`${gw.adminUrl}/admin/services/fragile/workers`, {
        method: "POST",
        headers: { ...bearer, "content-type": "application/json" },
        body: JSON.stringify({ endpoint: worker.endpoint }),
      });
      assert.equal(created.status, 201);
      const { id } = (await created.json()) as { id: string };
      const page = await openConsole();
      await stateCell(page, "fragile", id).filter({ hasText: "idle" }).waitFor();
      worker.kill("SIGKILL");
      await worker.exited;
      await stateCell(page, "fragile", id)
        .filter({ hasText: "disconnected" })
        .waitFor({ timeout: 5_000 });
      assert.equal(
        await page.locator('tbody[data-service="fragile"] td.workers-count').textContent(),
        "0 / 1",
      );
    } finally {
      worker.kill();
    }
  });

  test("try it shows the worker's reply, its status and a trace id, and the rates and sparklines fill in", async () => {
    const page = await openConsole();
    const form = page.locator("#try-form");
    await form.locator("select[name=service]").selectOption("echo");
    await form.locator("select[name=method]").selectOption("POST");
    await form.locator("input[name=path]").fill("/orders/42?expand=1");
    await form
      .locator("textarea[name=headers]")
      .fill("content-type: application/json\nx-request-id: from-the-console");
    await form.locator("textarea[name=body]").fill('{"hello":"console"}');
    await form.getByRole("button", { name: "Send" }).click();
    const result = page.locator("#try-result");
    await result.locator(".status", { hasText: "200" }).waitFor();
    assert.match((await result.locator(".body").textContent()) ?? "", /"hello": "console"/);
    assert.equal(await result.locator(".trace-id").textContent(), "from-the-console");
    assert.match((await result.locator(".trace-source").textContent()) ?? "", /request id/);
    assert.match(
      (await result.locator(".headers").textContent()) ?? "",
      /x-request-id: from-the-console/,
    );
    assert.match((await result.locator(".duration").textContent()) ?? "", /^\d+(\.\d)? ms$/);

    // Traffic until the table shows a rate, a p99 and both sparklines (bounded: it stops by itself).
    let stop = false;
    const traffic = (async () => {
      for (let i = 0; i < 5_000 && !stop; i++)
        await (
          await fetch(`${gw.url}/v1/echo`, { method: "POST", body: `load ${i}` })
        ).arrayBuffer();
    })();
    try {
      // Polled with page.evaluate: the page's CSP (no eval) rules out waitForFunction's string form.
      await waitUntil(
        async () =>
          (await page.evaluate(`(() => {
            const body = document.querySelector('tbody[data-service="echo"]');
            const line = body?.querySelector('svg polyline.rate');
            return !!body && body.querySelector('td.p99').textContent !== "–" && body.querySelector('td.rate').textContent !== "0.00"
              && body.querySelectorAll('svg polyline').length === 2 && line.getAttribute('points').split(' ').length >= 3;
          })()`)) === true,
        "a rate, a p99 and both sparklines for echo",
        { timeoutMs: 20_000, intervalMs: 200 },
      );
    } finally {
      stop = true;
      await traffic;
    }
    await saveScreenshot(page, "console");

    const phone = await openConsole({ width: 390, height: 844 });
    await phone.locator('tr[data-worker="echo/w1"]').waitFor();
    const overflowPx = await phone.evaluate<number>(
      "document.documentElement.scrollWidth - window.innerWidth",
    );
    assert.ok(overflowPx <= 1, `no sideways scrolling on a phone (${overflowPx} px too wide)`);
    await saveScreenshot(phone, "console-phone");
  });

  test("the API reference renders every operation of openapi.yaml, from the gateway alone", async () => {
    const watched = await openPage(browser, gw.adminUrl);
    pages.push(watched);
    const { page } = watched;
    await page.goto(`${gw.adminUrl}/admin/docs`);
    const operations = page.locator(".opblock-summary");
    await operations.first().waitFor();
    assert.equal(await operations.count(), operationCount());
    await page
      .locator(".opblock-summary", { hasText: "/admin/services/{service}/workers" })
      .first()
      .waitFor();
    await saveScreenshot(page, "api-reference");

    // "Try it out" on an admin operation reaches this listener, with the console's token.
    await page.evaluate(`sessionStorage.setItem("zmq-gateway.admin-token", ${JSON.stringify(TOKEN)})`);
    const listServices = page.locator(".opblock", { has: page.locator('.opblock-summary-path[data-path="/admin/services"]') });
    await listServices.locator(".opblock-summary").click();
    await listServices.getByRole("button", { name: "Try it out" }).click();
    await listServices.getByRole("button", { name: "Execute" }).click();
    await listServices.locator(".live-responses-table .response-col_status", { hasText: "200" }).waitFor();
    assert.match((await listServices.locator(".live-responses-table tbody .response-col_description").textContent()) ?? "", /"echo"/);
  });
});
