/**
 * Headless Chromium for the console's browser tests: Debian's /usr/bin/chromium driven by
 * playwright-core (no browser download). Every page is watched for requests that leave the
 * gateway (the console must work offline) and for script errors; screenshots go to
 * test-artifacts/ (gitignored).
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { repoRoot } from "../helpers/paths.js";

export const CHROMIUM_PATH = "/usr/bin/chromium";

export const ARTIFACTS_DIR = join(repoRoot, "test-artifacts");

/**
 * Why the browser tests cannot run here, or undefined when they can. In CI (CI=true) the
 * browser must be there (.ci/run installs it), so the tests fail rather than skip.
 */
export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM_PATH) || process.env.CI === "true") return undefined;
  return `${CHROMIUM_PATH} is missing (apt-get install chromium)`;
}

/** Launches Chromium with a fresh temporary profile (Playwright makes and removes it). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export interface WatchedPage {
  page: Page;
  /** URLs the page requested outside `origin` (data: URLs aside). */
  foreignRequests: string[];
  /** Uncaught script errors and console errors (401 answers aside). */
  errors: string[];
  close(): Promise<void>;
}

/** A page in its own context (own sessionStorage), watched for foreign requests and errors. */
export async function openPage(
  browser: Browser,
  origin: string,
  viewport = { width: 1280, height: 800 },
): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const foreignRequests: string[] = [];
  const errors: string[] = [];
  page.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith("data:")) foreignRequests.push(url);
  });
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    // A 401 is how the console learns that it needs the token: expected, not an error.
    if (message.type() === "error" && !/status of 401/.test(message.text()))
      errors.push(message.text());
  });
  return { page, foreignRequests, errors, close: () => context.close() };
}

/** Saves a full-page screenshot as test-artifacts/{name}.png and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
