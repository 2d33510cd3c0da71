/** The "try it" box: sends a call through POST /admin/console/try and shows what came back. */
import { adminFetch, ApiError, type TryResult } from "./api.js";
import { field } from "./dom.js";

/** "Name: value" lines into a header map; blank lines are skipped. */
export function parseHeaderLines(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (line.trim() === "") continue;
    if (colon <= 0) throw new Error(`a header line needs "name: value": ${line.trim()}`);
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function prettyBody(result: TryResult): string {
  if (result.bodyEncoding === "base64")
    return `(binary, ${result.bodyBytes} bytes, base64)\n${result.body}`;
  const type = result.headers.find(([name]) => name === "content-type")?.[1] ?? "";
  let body = result.body;
  if (/json/i.test(type) || /^\s*[[{]/.test(body)) {
    try {
      body = JSON.stringify(JSON.parse(body), null, 2);
    } catch {
      // not JSON after all: show it as it came
    }
  }
  if (result.truncated) body += `\n… (${result.bodyBytes} bytes in all)`;
  return body === "" ? "(empty body)" : body;
}

const SOURCES: Record<string, string> = {
  traceresponse: "from the traceresponse header",
  traceparent: "from the traceparent sent",
  "request-id": "tracing is off: the request id",
};

export function setupTryIt(form: HTMLFormElement, output: HTMLElement): void {
  const show = (selector: string, text: string) => {
    const element = output.querySelector(selector);
    if (element) element.textContent = text;
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]") as HTMLButtonElement;
    let headers: Record<string, string>;
    try {
      headers = parseHeaderLines(field<HTMLTextAreaElement>(form, "headers").value);
    } catch (error) {
      output.hidden = false;
      show(".status", (error as Error).message);
      for (const selector of [
        ".duration",
        ".trace-id",
        ".trace-source",
        ".request-id",
        ".headers",
        ".body",
      ])
        show(selector, "");
      return;
    }
    const input = {
      service: field<HTMLSelectElement>(form, "service").value,
      method: field<HTMLSelectElement>(form, "method").value,
      path: field<HTMLInputElement>(form, "path").value.trim(),
      headers,
      body: field<HTMLTextAreaElement>(form, "body").value,
    };
    button.disabled = true;
    void adminFetch<TryResult>("/admin/console/try", { method: "POST", body: input })
      .then((result) => {
        output.hidden = false;
        const status = output.querySelector(".status");
        if (status) {
          status.textContent = `${result.status}`;
          status.className = `status ${result.status < 400 ? "ok" : "bad"}`;
        }
        show(".duration", `${result.durationMs.toFixed(1)} ms`);
        show(".trace-id", result.traceId ?? "–");
        show(".trace-source", result.traceIdSource ? (SOURCES[result.traceIdSource] ?? "") : "");
        show(".request-id", result.requestId ?? "–");
        show(".headers", result.headers.map(([name, value]) => `${name}: ${value}`).join("\n"));
        show(".body", prettyBody(result));
      })
      .catch((error: unknown) => {
        output.hidden = false;
        for (const selector of [
          ".duration",
          ".trace-id",
          ".trace-source",
          ".request-id",
          ".headers",
          ".body",
        ])
          show(selector, "");
        const status = output.querySelector(".status");
        if (status) {
          status.textContent =
            error instanceof ApiError ? `Not sent: ${error.message}` : `Not sent: ${String(error)}`;
          status.className = "status bad";
        }
      })
      .finally(() => {
        button.disabled = false;
      });
  });
}
