// `walnats dashboard` as a user runs it: cli.ts in a child process (deno run -A cli.ts under
// Deno, bun cli.ts under Bun) against a real nats-server, stopped with SIGTERM.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { startNatsServer } from "../../testing.ts";
import type { DashboardSnapshot } from "../../admin.ts";
import { main } from "../../cli.ts";
import { system } from "./_setup.ts";
import { built, until } from "../_helpers.ts";

const root = new URL("../../", import.meta.url).pathname;
const isDeno = "Deno" in globalThis;

function start(args: string[]) {
  const cli = built ? "cli.js" : "cli.ts"; // the built twin under Node.js
  const argv = isDeno ? ["run", "-A", cli, ...args] : [cli, ...args];
  const child = spawn(process.execPath, argv, {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1", NATS_URL: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const run = { code: null as number | null, stdout: "", stderr: "" };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => run.stdout += chunk);
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => run.stderr += chunk);
  const done = new Promise<typeof run>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      run.code = code;
      resolve(run);
    });
  });
  return { child, run, done };
}

test("cli dashboard serves the page until SIGTERM, read-only unless --allow-redrive", async () => {
  await using server = await startNatsServer();
  await using s = await system(server.url);
  await s.events.emit(s.e, { n: -1 }, { sync: true });
  await s.events.emit(s.e, { n: 1 }, { sync: true });
  for (const allow of [false, true]) {
    const args = ["dashboard", "--server", server.url, "--port", "0", "--interval", "200"];
    const { child, run, done } = start(allow ? [...args, "--allow-redrive"] : args);
    try {
      await until(() => /dashboard on http/.test(run.stdout), 60_000, "the dashboard's URL");
      const url = run.stdout.match(/on (http:\/\/127\.0\.0\.1:\d+\/)/)![1]!;
      assert.match(run.stdout, allow ? /redrive allowed/ : /read-only/);
      const page = await fetch(url);
      assert.match(await page.text(), /<title>walnats dashboard<\/title>/);
      const snapshot = await (await fetch(new URL("api/status", url))).json() as DashboardSnapshot;
      assert.equal(snapshot.allowRedrive, allow);
      assert.equal(snapshot.status.actors.find((a) => a.name === "ship")?.pending, 2);
    } finally {
      // Not child.kill(): Deno then reports the signal even when the child exits by itself.
      process.kill(child.pid!, "SIGTERM");
    }
    const result = await done;
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /walnats dashboard stopped/);
  }
});

test("cli dashboard reports bad options (2) and an unreachable server (3)", async () => {
  let err = "";
  const output = { stdout: () => {}, stderr: (t: string) => void (err += t) };
  assert.equal(await main(["dashboard", "--port", "80000"], output), 2);
  assert.match(err, /--port must be an integer from 0 to 65535, got "80000"/);
  err = "";
  assert.equal(await main(["dashboard", "--nope"], output), 2);
  assert.match(err, /Unknown option '--nope'/);
  err = "";
  const code = await main(
    ["dashboard", "--server", "nats://127.0.0.1:1", "--port", "0"],
    output,
  );
  assert.equal(code, 3);
  assert.notEqual(err, "");
});
