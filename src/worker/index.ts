/**
 * `zmq-gateway/worker`: an optional helper for TypeScript workers (meta mode, trace
 * context continued from the gateway). Workers that do not use it work the same.
 */
export { MetaWorker, replyFrames, serveWorker } from "./meta-worker.js";
export type { ReplyBody, WorkerHandler, WorkerOptions, WorkerRequest, WorkerResponse } from "./meta-worker.js";
export type { RequestMeta } from "../protocol/meta.js";
