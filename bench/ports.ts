/**
 * Free TCP ports for configs that need a number (nginx, Mongrel2). Everything that can
 * listen on port 0 does so instead; this is the fallback, with the usual small race
 * between closing the probe and the server binding the port.
 */
import { createServer } from "node:net";

/** Binds 127.0.0.1:0, reads the port the OS picked, closes, and returns it. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error("no port from the OS"))));
    });
  });
}
