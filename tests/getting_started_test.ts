// The getting-started subscriber (examples/docs/getting_started/subscriber.ts) as an
// orchestrator runs it: probes on a port, a NATS outage, then SIGTERM.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { startNatsServer } from "../testing.ts";
import { built, until } from "./_helpers.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const script = "examples/docs/getting_started/subscriber.ts";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function status(port: number, path: string): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}${path}`)).status;
  } catch {
    return 0;
  }
}

test(
  "getting-started subscriber: liveness holds through a NATS outage, readiness follows it, SIGTERM stops it cleanly",
  {
    // The example imports "@walnats/walnats" by name; the Node.js leg builds tests, not examples
    // (scripts/pack_check.sh runs the package by name under Node.js).
    skip: built ? "examples are not built for the Node.js leg" : false,
  },
  async () => {
    await using server = await startNatsServer();
    const port = await freePort();
    const args = "Deno" in globalThis ? ["run", "-A", script] : [script];
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NATS_URL: server.url, PROBE_PORT: String(port), NO_COLOR: "1" },
    });
    let output = "";
    child.stdout!.on("data", (chunk) => output += chunk);
    child.stderr!.on("data", (chunk) => output += chunk);
    const exited = new Promise<number | string>((resolve) =>
      child.once("exit", (code, signal) => resolve(code ?? signal ?? -1))
    );
    try {
      await until(async () => await status(port, "/readyz") === 200, 30_000, "readiness");
      assert.equal(await status(port, "/livez"), 200);
      await server.stop();
      await until(async () => await status(port, "/readyz") === 503, 10_000, "not ready");
      assert.equal(await status(port, "/livez"), 200, "liveness must not follow NATS");
      await server.restart();
      await until(async () => await status(port, "/readyz") === 200, 15_000, "ready again");
      const stoppedAt = Date.now();
      // By pid: Deno's ChildProcess.kill() reports the signal as the exit, whatever the child does.
      process.kill(child.pid!, "SIGTERM");
      const code = await exited;
      assert.equal(code, 0, `exit ${code}:\n${output}`);
      assert.match(output, /listening; Ctrl-C to stop/);
      console.info(`SIGTERM: the subscriber exited with 0 after ${Date.now() - stoppedAt} ms`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  },
);
