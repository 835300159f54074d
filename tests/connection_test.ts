import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import process from "node:process";
import { fileURLToPath } from "node:url";
import * as v from "valibot";
import { startNatsServer } from "../testing.ts";
import { Actors, Event, Events } from "../mod.ts";
import { redactCredentials } from "../src/_redact.ts";
import { sourceUrl, uniqueName } from "./_helpers.ts";

const withUser = 'authorization { user: "app", password: "s3cret" }';
const withToken = 'authorization { token: "t0ken" }';

function credentialed(url: string, info: string): string {
  return url.replace("nats://", `nats://${info}@`);
}

test("Events.connect passes user:pass@ in a URL on as user and password", async () => {
  await using server = await startNatsServer({ config: withUser });
  const e = new Event(uniqueName(), v.string());
  await using conn = await new Events(e).connect(credentialed(server.url, "app:s3cret"));
  await conn.register();
  // The server accepted the credentials: a JetStream round trip works.
  assert.equal((await conn.emit(e, "hello", { sync: true })).seq, 1);
});

test("Actors.connect passes token@ in a URL (also in a list) on as the token", async () => {
  await using server = await startNatsServer({ config: withToken });
  await using conn = await new Actors().connect([credentialed(server.url, "t0ken")]);
  await conn.connection.flush();
  assert.equal(conn.connection.isClosed(), false);
});

test("Events.connect decodes URL-encoded credentials", async () => {
  await using server = await startNatsServer({
    config: 'authorization { user: "app", password: "p@ss:w/rd" }',
  });
  await using conn = await new Events().connect(credentialed(server.url, "app:p%40ss%3Aw%2Frd"));
  await conn.connection.flush();
});

test("Events.connect refuses URLs whose credentials disagree, naming no password", async () => {
  const urls = ["nats://a:pw-first@127.0.0.1:1", "nats://a:pw-second@127.0.0.1:2"];
  await assert.rejects(new Events().connect(urls), (error: Error) => {
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /carry different credentials/);
    assert.match(error.message, /nats:\/\/a:\*\*\*@127\.0\.0\.1:1/);
    assert.doesNotMatch(error.message, /pw-/);
    return true;
  });
  await assert.rejects(
    new Events().connect({ servers: "nats://tok@127.0.0.1:1", user: "a", pass: "b" }),
    /carries credentials and the options set others/,
  );
});

test("Events.connect with the same credentials in URL and options connects", async () => {
  await using server = await startNatsServer({ config: withUser });
  await using conn = await new Events().connect({
    servers: [credentialed(server.url, "app:s3cret"), server.url],
    user: "app",
    pass: "s3cret",
  });
  await conn.connection.flush();
});

test("Events.connect error shows the server without its password", async () => {
  await using server = await startNatsServer({ config: withUser });
  await assert.rejects(
    new Events().connect(credentialed(server.url, "app:wrong-secret")),
    (error: Error) => {
      assert.match(error.message, /Cannot connect to NATS at nats:\/\/app:\*\*\*@127\.0\.0\.1:/);
      assert.match(error.message, /Authorization Violation/);
      assert.doesNotMatch(`${error.message} ${error.stack}`, /wrong-secret/);
      return true;
    },
  );
});

test("redactCredentials hides passwords and tokens in any text", () => {
  assert.equal(
    redactCredentials("at nats://u:p@h:1, tls://tok@h:2 and u2:p2@h:3"),
    "at nats://u:***@h:1, tls://***@h:2 and u2:***@h:3",
  );
  assert.equal(redactCredentials("nats://h:4222"), "nats://h:4222");
});

test("Events.connect with a failed authentication leaves no error that ends the process", async () => {
  await using server = await startNatsServer({ config: withToken });
  const script = fileURLToPath(sourceUrl("./_connect_failing_auth.ts", import.meta.url));
  const isDeno = "Deno" in globalThis;
  const args = isDeno ? ["run", "-A", script, server.url, "30"] : [script, server.url, "30"];
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let out = "";
  child.stdout!.on("data", (chunk) => out += chunk);
  child.stderr!.on("data", (chunk) => out += chunk);
  const code = await new Promise((resolve) => child.once("exit", (c, s) => resolve(c ?? s)));
  assert.equal(code, 0, out);
  assert.match(out, /alive after 30 refused connects/);
  assert.doesNotMatch(out, /ECONNRESET/);
});

async function closedPort(): Promise<number> {
  return await new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

test("Events.connect with waitOnFirstConnect gives up after firstConnectTimeout", async () => {
  const port = await closedPort();
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    new Events().connect({
      servers: `nats://127.0.0.1:${port}`,
      waitOnFirstConnect: true,
      reconnectTimeWait: 200,
      firstConnectTimeout: 1500,
    }).then(() => "connected", (error: Error) => error.message),
    new Promise<string>((resolve) => timer = setTimeout(() => resolve("never settled"), 10_000)),
  ]);
  clearTimeout(timer);
  const took = Date.now() - started;
  assert.match(
    outcome,
    /Cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: no server answered within 1500 ms/,
  );
  assert.ok(took >= 1400 && took < 4000, `settled after ${took} ms`);
  console.info(`waitOnFirstConnect to a closed port settled after ${took} ms`);
});

test("Events.connect with waitOnFirstConnect connects to a server that starts late", async () => {
  // The bound must not cut a connect that succeeds: the server comes up after 600 ms.
  await using server = await startNatsServer();
  await server.stop();
  const restarted = new Promise((r) => setTimeout(r, 600)).then(() => server.restart());
  await using conn = await new Events().connect({
    servers: server.url,
    waitOnFirstConnect: true,
    reconnectTimeWait: 200,
    firstConnectTimeout: 10_000,
  });
  await restarted;
  await conn.connection.flush();
});

test("Events.connect refuses a firstConnectTimeout no timer can keep", async () => {
  for (const bad of [0, -1, NaN, 2 ** 31]) {
    await assert.rejects(
      new Events().connect({ servers: "nats://127.0.0.1:1", firstConnectTimeout: bad }),
      (error: Error) => error instanceof RangeError && /firstConnectTimeout/.test(error.message),
    );
  }
});
