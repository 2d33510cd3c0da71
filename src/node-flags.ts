/**
 * The V8 flags the gateway runs with wherever this project launches it: the shebang of
 * main.ts (the `zmq-gateway` bin), the Dockerfile's entry point, `npm run gateway`,
 * examples/start.ts, the bench, and the processes of `--processes N`.
 * test/unit/node-flags.test.ts keeps the static copies in step with this list.
 *
 * `--max-semi-space-size=8` (MiB): under a sustained allocation rate V8 doubles the young
 * generation's two semi-spaces up to 16 MiB each, 32 MiB of RSS for objects that live
 * for one request. Capped at 8 the gateway's peak RSS under load is about 10 MB lower
 * (110 -> 99 MB at 64 connections on one core) for about 1% of throughput, within the
 * noise of interleaved A/B runs (docs/benchmarks.md). V8 reads it only at start-up, so it
 * has to be on the command line (or in NODE_OPTIONS): `node dist/src/main.js` without it
 * works, with the larger young generation.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=8"];
