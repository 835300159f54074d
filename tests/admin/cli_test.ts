// `walnats status` and `walnats dead-letters` as a user runs them: cli.ts in a child process
// (deno run -A cli.ts under Deno, bun cli.ts under Bun) against a real nats-server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import * as v from "valibot";
import { startNatsServer } from "../../testing.ts";
import {
  Actor,
  Actors,
  Event,
  Events,
  type Heartbeat,
  HEARTBEAT_SUBJECTS,
  type Logger,
  UnrecoverableError,
} from "../../mod.ts";
import type { RedriveResult, Status } from "../../admin.ts";
import { built, until } from "../_helpers.ts";

const root = new URL("../../", import.meta.url).pathname;
const isDeno = "Deno" in globalThis;
const quiet: Logger = { error() {}, warn() {}, info() {} };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: Record<string, string> = {}) {
  const cli = built ? "cli.js" : "cli.ts"; // the built twin under Node.js
  const argv = isDeno ? ["run", "-A", cli, ...args] : [cli, ...args];
  const child = spawn(process.execPath, argv, {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1", NATS_URL: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const run: Run = { code: null, stdout: "", stderr: "" };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => run.stdout += chunk);
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => run.stderr += chunk);
  const done = new Promise<Run>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      run.code = code;
      resolve(run);
    });
  });
  return { child, run, done };
}

function cli(...args: string[]): Promise<Run> {
  return start(args).done;
}

/** order.placed with actors ship-order (gives up on negative numbers) and bill. */
async function system(url: string, emit: number[]) {
  const e = new Event("order.placed", v.object({ n: v.number() }));
  const ship = new Actor("ship-order", e, (m) => {
    if (m.n < 0) throw new UnrecoverableError(`negative ${m.n}`);
  });
  const bill = new Actor("bill", e, () => {});
  const events = await new Events(e).connect(url);
  await events.register();
  const actors = await new Actors(ship, bill).connect(url);
  await actors.register();
  for (const n of emit) await events.emit(e, { n }, { sync: true });
  const only = await new Actors(ship).connect(url);
  await only.listen({ burst: true, logger: quiet, heartbeat: false, maxJobs: 1 }); // dead letters in message order
  await only.close();
  return {
    e,
    ship,
    events,
    actors,
    [Symbol.asyncDispose]: async () => {
      await events.close();
      await actors.close();
    },
  };
}

test("cli status --json prints the documented status and exits 0 when healthy", async () => {
  await using server = await startNatsServer();
  await using _ = await system(server.url, [1, -2, 3]);
  const run = await cli("status", "--json", "--server", server.url);
  assert.equal(run.code, 0, run.stderr);
  const status = JSON.parse(run.stdout) as Status;
  assert.deepEqual(status.events.map((e) => [e.name, e.messages]), [["order.placed", 3]]);
  assert.deepEqual(
    status.actors.map((
      a,
    ) => [a.name, a.event, a.pending, a.inFlight, a.redelivered, a.deadLetters]),
    [["bill", "order.placed", 3, 0, 0, 0], ["ship-order", "order.placed", 0, 0, 0, 1]],
  );
  assert.deepEqual(status.actors[0]?.instances, []);
  assert.equal(status.healthy, true);
});

test("cli status gates a deploy: exit 1 past --max-dead, and for a declared actor that is missing", async () => {
  await using server = await startNatsServer();
  await using _ = await system(server.url, [-1, -2]);
  const table = await cli("status", "--server", server.url, "--max-dead", "2");
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^ship-order\s+order\.placed\s+0\s+0\s+0\s+\d+\s+2\s/m);
  assert.match(table.stdout, /healthy · 2 dead letters/);

  const over = await cli("status", "--server", server.url, "--max-dead", "1");
  assert.equal(over.code, 1);
  assert.match(over.stdout, /2 dead letters stored, more than --max-dead 1/);

  const declared = await cli(
    "status",
    "--server",
    server.url,
    "--module",
    built ? "tests/admin/fixtures/system.js" : "tests/admin/fixtures/system.ts",
  );
  assert.equal(declared.code, 1, declared.stderr);
  assert.match(declared.stdout, /never-registered.*MISSING/);
  assert.doesNotMatch(declared.stdout, /^bill/m, "only the module's actors are shown");
});

test("cli status counts running instances from their heartbeats", async () => {
  await using server = await startNatsServer();
  await using s = await system(server.url, []);
  const stop = new AbortController();
  const listening = s.actors.listen({ signal: stop.signal, logger: quiet });
  try {
    const run = await cli("status", "--json", "--server", server.url);
    assert.equal(run.code, 0, run.stderr);
    const status = JSON.parse(run.stdout) as Status;
    assert.deepEqual(status.actors.map((a) => a.instances.length), [1, 1]);
    assert.equal(status.instances[0]?.pid, process.pid);
  } finally {
    stop.abort();
    await listening;
  }
});

test("cli status exits 1 when a running instance reports an actor unhealthy", async () => {
  await using server = await startNatsServer();
  await using s = await system(server.url, []);
  // A listener whose consumer cannot be recreated answers pings like this (the wire format).
  const beat: Heartbeat = {
    v: 1,
    id: "sick-one",
    host: "box",
    pid: 4242,
    runtime: "deno 2.0.0",
    started: Date.now() - 60_000,
    time: Date.now(),
    interval: 5000,
    actors: [{ name: "ship-order", event: "order.placed" }],
    health: {
      connected: true,
      listening: true,
      healthy: false,
      running: 0,
      actors: {
        "ship-order": {
          running: 0,
          held: 0,
          outstanding: 0,
          ahead: 0,
          rtt: 1,
          lastPull: 0,
          lastActivity: 0,
          deadLetters: { stored: 1, lost: 2 },
          healing: {
            state: "retrying",
            since: Date.now(),
            attempts: 3,
            recoveries: 0,
            recreated: 0,
            lastError: "stream not found",
          },
          progress: [],
        },
      },
      workers: { thread: { alive: 0, busy: 0 }, process: { alive: 0, busy: 0 } },
    },
  };
  const sub = s.events.connection.subscribe(HEARTBEAT_SUBJECTS.ping, {
    callback: (_, msg) => void msg.respond(new TextEncoder().encode(JSON.stringify(beat))),
  });
  await s.events.connection.flush();
  const run = await cli("status", "--server", server.url);
  sub.unsubscribe();
  assert.equal(run.code, 1, run.stdout + run.stderr);
  assert.match(run.stdout, /^ship-order\s.*0\/1 healthy.*UNHEALTHY$/m);
  assert.match(run.stdout, /box:4242.*retrying: stream not found/);
  assert.match(run.stdout, /instance box:4242 could not store 2 dead letters/);
});

test("cli status --watch redraws in place with rates until interrupted", async () => {
  await using server = await startNatsServer();
  await using s = await system(server.url, []);
  const watch = start(["status", "--watch", "--interval", "300", "--server", server.url]);
  const frames = () => watch.run.stdout.split("\x1b[H\x1b[J").length - 1;
  try {
    await until(() => frames() >= 1, 20_000, "the first frame");
    for (let i = 0; i < 20; i++) await s.events.emit(s.e, { n: i }, { sync: true });
    const seen = frames();
    await until(() => frames() >= seen + 2, 10_000, "two more frames");
    const last = watch.run.stdout.split("\x1b[H\x1b[J").at(-1)!;
    assert.match(last, /EMIT\/S/);
    assert.match(last, /^order\.placed\s+20\s/m);
  } finally {
    // process.kill, not child.kill: Deno's child.kill reports the child as killed by the
    // signal even when it handled it and exited 0.
    process.kill(watch.child.pid!, "SIGINT");
  }
  const run = await watch.done;
  assert.equal(run.code, 0, run.stderr);
  // Some frame saw the 20 messages arrive: an emit rate above zero.
  const emitRates = run.stdout.split("\x1b[H\x1b[J").map((frame) =>
    Number(
      /^order\.placed\s+\d+\s+\S+ \S+\s+\d+\s+\d+\s+(?:\S+ ago|now|-)\s+([\d.]+)\s/m.exec(frame)
        ?.[1] ?? NaN,
    )
  );
  assert.ok(emitRates.some((r) => r > 0), JSON.stringify(emitRates));
});

test("cli status --watch says when the server is gone and carries on when it is back", async () => {
  await using server = await startNatsServer();
  await using _ = await system(server.url, []);
  const watch = start(["status", "--watch", "--interval", "200", "--server", server.url]);
  const frames = () => watch.run.stdout.split("\x1b[H\x1b[J");
  try {
    await until(() => frames().length >= 2, 20_000, "the first frame");
    await server.stop();
    await until(
      () => frames().some((f) => f.startsWith("cannot read the status")),
      20_000,
      "a frame that says the status cannot be read",
    );
    await server.restart();
    const after = frames().length;
    await until(
      () => frames().slice(after).some((f) => /^ship-order\s/m.test(f)),
      30_000,
      "a status table after the restart",
    );
  } finally {
    process.kill(watch.child.pid!, "SIGINT");
  }
  const run = await watch.done;
  assert.equal(run.code, 0, run.stderr);
});

test("cli dead-letters list, show, redrive --json and retry", async () => {
  await using server = await startNatsServer();
  await using _ = await system(server.url, [-1, -2, -3]);
  const list = await cli("dead-letters", "list", "--json", "--server", server.url);
  assert.equal(list.code, 0, list.stderr);
  const letters = JSON.parse(list.stdout);
  assert.deepEqual(letters.map((d: { seq: number }) => d.seq), [1, 2, 3]);
  assert.equal(list.stderr, "");
  const two = await cli("dead-letters", "list", "--limit", "2", "--server", server.url);
  assert.match(two.stdout, /^SEQ\s+ACTOR/);
  assert.equal(two.stdout.trim().split("\n").length, 3, "a header and two dead letters");
  assert.match(two.stderr, /showing the first 2 dead letters; there are more/);
  assert.equal(letters[0].reason, "unrecoverable");
  assert.equal(letters[0].payloadText, '{"n":-1}');

  const show = await cli("dead-letters", "show", "ship-order", "2", "--server", server.url);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /reason:\s+unrecoverable after 1 attempts/);
  assert.match(show.stdout, /\{"n":-2\}/);

  const dry = await cli("dead-letters", "redrive", "--dry-run", "--json", "--server", server.url);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal((JSON.parse(dry.stdout) as RedriveResult).redriven, 3);
  assert.match(dry.stderr, /bill \(order\.placed\)/, "warns that bill gets them too");

  const one = await cli(
    "dead-letters",
    "retry",
    "ship-order",
    "1",
    "--json",
    "--server",
    server.url,
  );
  assert.equal(one.code, 0, one.stderr);
  assert.equal(JSON.parse(one.stdout).redriven, 1);

  const rest = await cli(
    "dead-letters",
    "redrive",
    "--limit",
    "1",
    "--json",
    "--server",
    server.url,
  );
  assert.equal(JSON.parse(rest.stdout).redriven, 1);
  const left = await cli("dead-letters", "list", "--json", "--server", server.url);
  assert.deepEqual(JSON.parse(left.stdout).map((d: { seq: number }) => d.seq), [3]);
});

test("cli dead-letters purge needs a selection", async () => {
  await using server = await startNatsServer();
  await using _ = await system(server.url, [-1, -2]);
  const refused = await cli("dead-letters", "purge", "--server", server.url);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /--actor, --event or --reason, or pass --all/);
  const purged = await cli(
    "dead-letters",
    "purge",
    "--actor",
    "ship-order",
    "--server",
    server.url,
  );
  assert.equal(purged.code, 0, purged.stderr);
  assert.match(purged.stdout, /purged 2 dead letters/);
});

test("cli admin commands take credentials and exit 3 when the server cannot be reached", async () => {
  await using server = await startNatsServer({
    config: "authorization { user: admin, password: s3cret }",
  });
  const denied = await cli("status", "--server", server.url);
  assert.equal(denied.code, 3);
  assert.match(denied.stderr, /Cannot connect to NATS at .*127\.0\.0\.1/i);
  const allowed = await cli(
    "status",
    "--json",
    "--server",
    server.url,
    "--user",
    "admin",
    "--password",
    "s3cret",
  );
  assert.equal(allowed.code, 0, allowed.stderr);
  assert.ok(JSON.parse(allowed.stdout).server.version);

  await using tokenServer = await startNatsServer({ config: "authorization { token: t0ken }" });
  const token = await cli("status", "--json", "--server", tokenServer.url, "--token", "t0ken");
  assert.equal(token.code, 0, token.stderr);
  const wrong = await cli("status", "--server", tokenServer.url, "--token", "nope");
  assert.equal(wrong.code, 3);

  const env = start(["status", "--json"], { NATS_URL: "nats://127.0.0.1:1" });
  const run = await env.done;
  assert.equal(run.code, 3);
  assert.match(run.stderr, /127\.0\.0\.1:1/);
});
