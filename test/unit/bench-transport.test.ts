import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseBenchArgs } from "../../bench/args.js";
import { READY_ENDPOINT, socketPath, zmqBindEndpoint } from "../../bench/transport.js";

describe("bench --transport", () => {
  it("defaults to loopback TCP and takes unix", () => {
    assert.equal(parseBenchArgs([]).transport, "tcp");
    assert.equal(parseBenchArgs(["--transport", "unix"]).transport, "unix");
    assert.equal(parseBenchArgs(["--transport", "tcp", "--soak", "60"]).transport, "tcp");
  });

  it("refuses any other transport, naming the flag", () => {
    assert.throws(() => parseBenchArgs(["--transport", "ipc"]), /--transport: must be tcp or unix \(got "ipc"\)/);
  });

  it("binds ZeroMQ on port 0 for tcp and on a socket in the folder for unix", () => {
    assert.equal(zmqBindEndpoint("tcp", "/tmp/x", "w1"), "tcp://127.0.0.1:0");
    assert.equal(zmqBindEndpoint("unix", "/tmp/x", "w1"), "ipc:///tmp/x/w1.sock");
    assert.match("ready ipc:///tmp/x/w1.sock", READY_ENDPOINT);
    assert.match("ready tcp://127.0.0.1:40000", READY_ENDPOINT);
    assert.doesNotMatch("ready", READY_ENDPOINT);
  });

  it("refuses a socket path longer than sun_path holds", () => {
    const dir = `/tmp/${"d".repeat(95)}`;
    assert.equal(socketPath(dir, "w"), `${dir}/w.sock`); // 107 bytes: fits
    assert.throws(() => socketPath(dir, "w1"), /longer than 107 bytes; set TMPDIR/);
  });
});
