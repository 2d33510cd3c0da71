/**
 * The console page: polls GET /admin/services and GET /admin/console/stats every two
 * seconds and redraws the services table; registers and removes workers through the admin
 * API; keeps the admin token of this tab in sessionStorage; runs the "try it" box.
 */
import {
  adminFetch,
  ApiError,
  readToken,
  saveToken,
  type ConsoleStats,
  type ServicesResponse,
  type WorkerInfo,
} from "./api.js";
import { field } from "./dom.js";
import { History } from "./history.js";
import { renderServices } from "./services-view.js";
import { setupTryIt } from "./try-it.js";

const POLL_MS = 2_000;

const byId = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing`);
  return element as T;
};

const table = byId<HTMLTableElement>("services");
const live = byId("live");
const notice = byId("notice");
const windowNote = byId("window-note");
const empty = byId("empty");
const registerForm = byId<HTMLFormElement>("register-form");
const tryForm = byId<HTMLFormElement>("try-form");
const tokenForm = byId<HTMLFormElement>("token-form");
const history = new History();

let timer: number | undefined;
let polling: Promise<void> | undefined;

function setLive(text: string, tone: "ok" | "warn" | "bad"): void {
  live.textContent = text;
  live.className = `live ${tone}`;
}

function showNotice(text: string | null): void {
  notice.hidden = text === null;
  notice.textContent = text ?? "";
}

/** Keeps each service <select> listing the services, without losing the current choice. */
function fillServiceSelects(names: string[]): void {
  for (const form of [registerForm, tryForm]) {
    const select = field<HTMLSelectElement>(form, "service");
    const current = [...select.options].map((option) => option.value);
    if (current.join("\n") === names.join("\n")) continue;
    const chosen = select.value;
    select.replaceChildren(...names.map((name) => new Option(name, name, false, name === chosen)));
  }
}

async function poll(): Promise<void> {
  try {
    const [services, stats] = await Promise.all([
      adminFetch<ServicesResponse>("/admin/services"),
      adminFetch<ConsoleStats>("/admin/console/stats"),
    ]);
    history.add(stats);
    renderServices(table, services.services, history, { remove });
    fillServiceSelects(services.services.map((service) => service.name));
    empty.hidden = services.services.length > 0;
    windowNote.textContent =
      stats.windowSeconds === null
        ? "· latency since start"
        : `· latency over the last ${Math.round(stats.windowSeconds)} s`;
    if (services.draining) setLive("draining", "warn");
    else setLive("live", "ok");
    showNotice(null);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      setLive("token needed", "bad");
      showNotice("The admin API needs a token: enter it above and press Save.");
    } else {
      setLive("offline", "bad");
      showNotice(
        `The admin API cannot be reached: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

/** Polls now (unless a poll is under way), then every POLL_MS. */
function refresh(): Promise<void> {
  window.clearTimeout(timer);
  polling ??= poll().finally(() => {
    polling = undefined;
    timer = window.setTimeout(() => void refresh(), POLL_MS);
  });
  return polling;
}

function remove(service: string, worker: WorkerInfo): void {
  adminFetch(
    `/admin/services/${encodeURIComponent(service)}/workers/${encodeURIComponent(worker.id)}`,
    { method: "DELETE" },
  )
    .then(() => showNotice(null))
    .catch((error: unknown) =>
      showNotice(
        `Could not remove ${worker.id} of ${service}: ${error instanceof Error ? error.message : String(error)}`,
      ),
    )
    .finally(() => void refresh());
}

registerForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const result = registerForm.querySelector("output") as HTMLOutputElement;
  const service = field<HTMLSelectElement>(registerForm, "service").value;
  const endpoint = field<HTMLInputElement>(registerForm, "endpoint").value.trim();
  const serverKey = field<HTMLInputElement>(registerForm, "serverKey").value.trim();
  const meta = field<HTMLInputElement>(registerForm, "meta").checked;
  const body = { endpoint, ...(meta && { meta: true }), ...(serverKey && { serverKey }) };
  adminFetch<{ id: string }>(`/admin/services/${encodeURIComponent(service)}/workers`, {
    method: "POST",
    body,
  })
    .then((created) => {
      result.value = `Registered ${created.id} on ${service}.`;
      result.className = "ok";
      field<HTMLInputElement>(registerForm, "endpoint").value = "";
    })
    .catch((error: unknown) => {
      result.value = `Not registered: ${error instanceof Error ? error.message : String(error)}`;
      result.className = "bad";
    })
    .finally(() => void refresh());
});

const tokenInput = field<HTMLInputElement>(tokenForm, "token");
tokenInput.value = readToken();
tokenForm.addEventListener("submit", (event) => {
  event.preventDefault();
  saveToken(tokenInput.value.trim());
  void refresh();
});
byId("token-clear").addEventListener("click", () => {
  tokenInput.value = "";
  saveToken("");
  void refresh();
});

setupTryIt(tryForm, byId("try-result"));
void refresh();
