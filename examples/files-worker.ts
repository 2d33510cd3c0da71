/**
 * A small JSON worker in the spirit of the book's `filer`: the request is
 * `{"path": "relative/file"}`, the reply is the file's text and size as JSON, or
 * `{"error": ...}`. Only files below FILES_ROOT (default: the current folder) are read.
 *
 *   WORKER_BIND=tcp://127.0.0.1:5556 FILES_ROOT=. node dist/examples/files-worker.js
 */
import { readFile } from "node:fs/promises";
import { resolve, sep } from "node:path";
import { Reply } from "zeromq";

const root = resolve(process.env.FILES_ROOT ?? ".");
const socket = new Reply({ linger: 0 });
const bind = process.env.WORKER_BIND;
if (bind) await socket.bind(bind);
else socket.connect(process.env.WORKER_CONNECT ?? "tcp://127.0.0.1:5561");
console.log(`ready ${socket.lastEndpoint ?? process.env.WORKER_CONNECT}`);
process.once("SIGTERM", () => socket.close());

async function answer(request: Buffer): Promise<unknown> {
  try {
    const { path } = JSON.parse(request.toString("utf8")) as { path?: unknown };
    if (typeof path !== "string") return { error: "send {\"path\": \"file\"}" };
    const file = resolve(root, path);
    if (file !== root && !file.startsWith(root + sep)) return { error: "path outside root" };
    const content = await readFile(file, "utf8");
    return { path, bytes: Buffer.byteLength(content), content };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

for await (const [request] of socket) {
  await socket.send(JSON.stringify(await answer(request ?? Buffer.alloc(0))));
}
