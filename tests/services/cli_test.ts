import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { services as shop } from "./fixtures/services.ts";
import { fixture } from "./_snapshot.ts";
import { built } from "../_helpers.ts";

const root = new URL("../../", import.meta.url).pathname;
const isDeno = "Deno" in globalThis;
// Built (Node.js), the root is .build/ and the modules are JavaScript.
const ext = built ? "js" : "ts";

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run cli.ts with the runtime running this test (deno run -A, bun, or node with the build). */
function cli(...args: string[]): Promise<Run> {
  const argv = isDeno ? ["run", "-A", "cli.ts", ...args] : [`cli.${ext}`, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => stdout += chunk);
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => stderr += chunk);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const shopModule = `tests/services/fixtures/services.${ext}`;

test("cli asyncapi prints the AsyncAPI document of a module's services", async () => {
  const run = await cli("asyncapi", shopModule);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), shop.asyncApi());
});

test("cli asyncapi takes a service, title, version and servers", async () => {
  const run = await cli(
    "asyncapi",
    shopModule,
    "--service",
    "users",
    "--title",
    "Users API",
    "--doc-version",
    "2.0.0",
    "--server",
    "local=nats://127.0.0.1:4222",
  );
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(
    JSON.parse(run.stdout),
    shop.asyncApi({
      service: "users",
      title: "Users API",
      version: "2.0.0",
      servers: { local: "nats://127.0.0.1:4222" },
    }),
  );
});

test("cli d2 prints the reviewed D2 diagram", async () => {
  const run = await cli("d2", shopModule);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, readFileSync(fixture("shop.d2"), "utf8"));
});

test("cli mermaid takes a direction and turns colours off", async () => {
  const url = pathToFileURL(fixture(`services.${ext}`)).href;
  const run = await cli("mermaid", url, "--direction", "down", "--no-colors");
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, readFileSync(fixture("shop-plain.mmd"), "utf8"));
});

test("cli reports a module that cannot be loaded", async () => {
  const run = await cli("d2", `tests/services/fixtures/missing.${ext}`);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  assert.match(
    run.stderr,
    new RegExp(`^walnats: cannot load module "tests/services/fixtures/missing\\.${ext}": `),
  );
});

test("cli reports a missing export and lists the module's exports", async () => {
  const run = await cli("d2", shopModule, "--export", "system");
  assert.equal(run.code, 1);
  assert.match(run.stderr, /has no export "system" \(its exports: "countWords", .*"services"/);
});

test("cli reports an export that is not a Services", async () => {
  const run = await cli("asyncapi", `tests/services/fixtures/not_services.${ext}`);
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    new RegExp(`export "services" of module ".*not_services\\.${ext}" is not a walnats Services`),
  );
});

test("cli reports an unknown command with the usage", async () => {
  const run = await cli("openapi", shopModule);
  assert.equal(run.code, 2);
  assert.match(
    run.stderr,
    /^walnats: unknown command "openapi"\n\nUsage: walnats <command> \[arguments\] \[options\]/,
  );
});

test("cli reports bad option values: an unknown service or direction", async () => {
  const service = await cli("asyncapi", shopModule, "--service", "nope");
  assert.equal(service.code, 2);
  assert.match(service.stderr, /Unknown service "nope"; the services are: "users"/);
  const direction = await cli("d2", shopModule, "--direction", "sideways");
  assert.equal(direction.code, 2);
  assert.match(direction.stderr, /Invalid diagram direction "sideways"/);
});

test("cli prints the usage on help and fails without a command", async () => {
  const help = await cli("help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: walnats <command> \[arguments\] \[options\]/);
  assert.match(help.stdout, /^ {2}status /m);
  assert.match(help.stdout, /^ {2}dead-letters list /m);
  assert.match(help.stdout, /^Module commands: walnats <command> <module> \[options\]/m);
  const none = await cli();
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^Usage:/);
  const missing = await cli("d2");
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /d2 takes exactly one module, got 0/);
});
