/**
 * The V8 flags the gateway runs with wherever this project launches it: the shebang of
 * main.ts (the `zmq-gateway` bin), the Dockerfile's entry point, `npm run gateway`,
 * examples/start.ts, the bench, and the processes of `--processes N`.
 * test/unit/node-flags.test.ts keeps the static copies in step with this list. V8 reads
 * them only at start-up, so they have to be on the command line (or in NODE_OPTIONS):
 * `node dist/src/main.js` without them works, with Node's defaults.
 *
 * - `--max-semi-space-size=8` (MiB): under a sustained allocation rate V8 doubles the
 *   young generation's two semi-spaces up to 16 MiB each, 32 MiB of RSS for objects that
 *   live for one request. At 8, peak RSS under load is about 15 MiB lower (114.0 -> 99.4
 *   MiB at 64 connections on one core) for 4.4% more CPU per GET and 3.3% per POST,
 *   measured side by side (docs/benchmarks.md, the tenth session): at 16 the peak would
 *   sit at the 120 MB target. V8 rounds the size up to a power of two, so 10 or 12 cost
 *   the memory of 16.
 * - `--max-old-space-size=1024` (MiB): with Node's default limit here (4 GiB) V8 lets
 *   the old generation grow up to 4x its live size before a full collection. Under load
 *   the ~50 B per request that outlive two scavenges then piled up from 12 to 45 MB in
 *   the first minute (RSS 128 MiB) before V8's first full collection brought it back to
 *   105. V8's largest growing factor depends on the limit (4 at 2 GiB and above, about
 *   1.6 at 1 GiB, V8's heap-controller.h): with it the same load ran at 92-96 MiB from the
 *   start, with a full collection every ~10 s (about 6 ms each), and req/s unchanged in 3
 *   pairs. Bodies are Buffers outside this heap; 1 GiB of JavaScript objects is hundreds
 *   of thousands of requests in flight or queued.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=8", "--max-old-space-size=1024"];
