/** Polls until `predicate` holds or the deadline passes (then throws with `what`). */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  { timeoutMs = 5_000, intervalMs = 10 } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
