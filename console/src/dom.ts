/** Small DOM helpers: elements built with text (never HTML strings), and number formats. */

type Child = Node | string | number | null | undefined;

/** `<tag attrs...>children</tag>`; attribute values are set as text, never parsed. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs))
    if (value !== undefined) element.setAttribute(name, value);
  for (const child of children)
    if (child !== null && child !== undefined)
      element.append(child instanceof Node ? child : String(child));
  return element;
}

/** The form control named `name` in `form`. */
export function field<T extends HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>(
  form: HTMLFormElement,
  name: string,
): T {
  const control = form.elements.namedItem(name);
  if (!control) throw new Error(`no field ${name}`);
  return control as T;
}

export function formatRate(perSecond: number | null): string {
  if (perSecond === null) return "–";
  return perSecond >= 100
    ? perSecond.toFixed(0)
    : perSecond >= 10
      ? perSecond.toFixed(1)
      : perSecond.toFixed(2);
}

export function formatMs(ms: number | null): string {
  if (ms === null) return "–";
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return ms >= 10 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(2)} ms`;
}

export function formatPercent(ratio: number | null): string {
  if (ratio === null) return "–";
  return ratio === 0 ? "0%" : ratio < 0.001 ? "<0.1%" : `${(ratio * 100).toFixed(1)}%`;
}

/** "4 s ago", "3 min ago", or "never". */
export function formatAgo(iso: string | null, nowMs: number): string {
  if (!iso) return "never";
  const seconds = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  return new Date(iso).toLocaleString();
}
