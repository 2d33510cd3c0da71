/**
 * The services table: per service a summary row (workers, in flight, queue, rate, errors,
 * p50/p99, sparklines), then its workers (endpoint, how they joined, state, counters, last
 * seen, and a Remove button for connect-out workers). Rebuilt on every poll.
 */
import type { ServiceInfo, WorkerInfo } from "./api.js";
import { formatAgo, formatMs, formatPercent, formatRate, h } from "./dom.js";
import type { History } from "./history.js";
import { sparkline } from "./sparkline.js";

export interface ServicesViewActions {
  remove(service: string, worker: WorkerInfo): void;
}

const WORKER_COLUMNS = [
  "Worker",
  "Endpoint",
  "Joined",
  "State",
  "In flight",
  "Served",
  "Failures",
  "Last seen",
  "",
];
const NUMERIC_COLUMNS = new Set(["In flight", "Served", "Failures"]);

function workerRow(
  service: ServiceInfo,
  worker: WorkerInfo,
  nowMs: number,
  actions: ServicesViewActions,
): HTMLTableRowElement {
  // Only connect-out workers can be removed: a connect-in endpoint belongs to the config.
  const removable = worker.joined !== "connect-in" && worker.state !== "removing";
  const button = removable
    ? h(
        "button",
        {
          type: "button",
          class: "remove",
          "aria-label": `Remove worker ${worker.id} of ${service.name}`,
        },
        "Remove",
      )
    : null;
  button?.addEventListener("click", () => actions.remove(service.name, worker));
  const peers =
    worker.joined === "connect-in" ? ` (${worker.peers} peer${worker.peers === 1 ? "" : "s"})` : "";
  return h(
    "tr",
    { "data-worker": `${service.name}/${worker.id}` },
    h("td", { "data-label": "Worker" }, worker.id),
    h("td", { "data-label": "Endpoint", class: "endpoint" }, h("code", {}, worker.endpoint), peers),
    h("td", { "data-label": "Joined" }, worker.joined, worker.mode === "meta" ? " · meta" : ""),
    h(
      "td",
      { "data-label": "State", class: "state" },
      h("span", { class: `badge state-${worker.state}` }, worker.state),
    ),
    h("td", { "data-label": "In flight", class: "num" }, worker.inFlight),
    h("td", { "data-label": "Served", class: "num" }, worker.served),
    h(
      "td",
      {
        "data-label": "Failures",
        class: "num",
        title: `${worker.failures} lost while held, ${worker.timeouts} timed out`,
      },
      worker.failures + worker.timeouts,
    ),
    h(
      "td",
      { "data-label": "Last seen", title: worker.lastSeen ?? "" },
      formatAgo(worker.lastSeen, nowMs),
    ),
    h("td", {}, button),
  );
}

function serviceBody(
  service: ServiceInfo,
  history: History,
  nowMs: number,
  actions: ServicesViewActions,
): HTMLTableSectionElement {
  const trend = history.trend(service.name);
  const errorsClass =
    trend.errorRatio !== null && trend.errorRatio >= 0.01 ? "num errors-high" : "num";
  const workers =
    service.workers.length === 0
      ? h("p", { class: "muted" }, "No workers yet.")
      : h(
          "table",
          { class: "workers", "aria-label": `Workers of ${service.name}` },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ...WORKER_COLUMNS.map((name) =>
                h("th", NUMERIC_COLUMNS.has(name) ? { class: "num" } : {}, name),
              ),
            ),
          ),
          h(
            "tbody",
            {},
            ...service.workers.map((worker) => workerRow(service, worker, nowMs, actions)),
          ),
        );
  return h(
    "tbody",
    { class: "service", "data-service": service.name },
    h(
      "tr",
      { class: "summary" },
      h("td", { class: "name" }, service.name),
      h(
        "td",
        { "data-label": "Workers", class: "num workers-count" },
        `${service.connectedWorkers} / ${service.workers.length}`,
      ),
      h("td", { "data-label": "In flight", class: "num" }, service.inFlight),
      h("td", { "data-label": "Queued", class: "num" }, service.queued),
      h("td", { "data-label": "Req/s", class: "num rate" }, formatRate(trend.ratePerSecond)),
      h("td", { "data-label": "Errors", class: errorsClass }, formatPercent(trend.errorRatio)),
      h("td", { "data-label": "p50", class: "num p50" }, formatMs(trend.p50Ms)),
      h("td", { "data-label": "p99", class: "num p99" }, formatMs(trend.p99Ms)),
      h(
        "td",
        { "data-label": "Last minute" },
        h(
          "span",
          { class: "spark" },
          sparkline(trend.rateSeries, "rate", `${service.name}: requests per second`),
          sparkline(trend.p99Series, "p99", `${service.name}: p99 latency`),
        ),
      ),
    ),
    h("tr", { class: "workers-row" }, h("td", { colspan: "9" }, workers)),
  );
}

export function renderServices(
  table: HTMLTableElement,
  services: ServiceInfo[],
  history: History,
  actions: ServicesViewActions,
): void {
  const nowMs = Date.now();
  for (const body of table.querySelectorAll("tbody.service")) body.remove();
  table.append(...services.map((service) => serviceBody(service, history, nowMs, actions)));
}
