// Dead letters through the admin API against a real nats-server: list, show, redrive (nothing
// lost, nothing doubled), retry, purge.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { startNatsServer } from "../../testing.ts";
import { Actor, Actors, Event, Events, type Logger, UnrecoverableError } from "../../mod.ts";
import { connectAdmin, redriveUid } from "../../admin.ts";
import { uniqueName } from "../_helpers.ts";

const quiet: Logger = { error() {}, warn() {}, info() {} };

/** An event, an actor that gives up on negative numbers, and `count` dead letters. */
async function withDeadLetters(url: string, count: number) {
  const e = new Event(uniqueName("order"), v.object({ n: v.number() }));
  let fixed = false;
  const handled: number[] = [];
  const ship = new Actor("ship", e, (m, job) => {
    if (m.n < 0 && !fixed) throw new UnrecoverableError(`negative ${m.n}`);
    handled.push(m.n);
    void job;
  });
  const events = await new Events(e).connect(url);
  await events.register();
  const actors = await new Actors(ship).connect(url);
  await actors.register();
  for (let i = 1; i <= count; i++) {
    await events.emit(e, { n: -i }, { uid: `order-${i}`, traceId: `trace-${i}`, sync: true });
  }
  await actors.listen({ burst: true, logger: quiet, heartbeat: false });
  return {
    e,
    ship,
    events,
    actors,
    handled,
    fix: () => fixed = true,
    [Symbol.asyncDispose]: async () => {
      await events.close();
      await actors.close();
    },
  };
}

test("DeadLetters.list shows reason, attempts, the original event and a payload preview", async () => {
  await using server = await startNatsServer();
  await using s = await withDeadLetters(server.url, 3);
  await using admin = await connectAdmin(server.url);
  const all = await admin.deadLetters.list();
  assert.equal(all.length, 3);
  assert.deepEqual(all.map((d) => d.seq), [1, 2, 3]);
  const first = all[0]!;
  assert.equal(first.actor, "ship");
  assert.equal(first.event, s.e.name);
  assert.equal(first.reason, "unrecoverable");
  assert.equal(first.error, "UnrecoverableError: negative -1");
  assert.equal(first.attempts, 1);
  assert.equal(first.streamSeq, 1);
  assert.equal(first.stream, s.ship.deadLetters!.streamName);
  assert.equal(first.preview, '{"n":-1}');
  assert.deepEqual(JSON.parse(new TextDecoder().decode(first.payload)), { n: -1 });
  assert.equal(first.headers["Nats-Msg-Id"], "order-1");
  assert.ok(Date.parse(first.time) <= Date.now());

  assert.equal((await admin.deadLetters.list({ limit: 2 })).length, 2);
  assert.equal((await admin.deadLetters.list({ actor: "nobody" })).length, 0);
  assert.equal((await admin.deadLetters.list({ reason: "failed" })).length, 0);
  assert.deepEqual(
    (await admin.deadLetters.list({ filter: (d) => d.preview.includes("-2") })).map((d) => d.seq),
    [2],
  );
  const shown = await admin.deadLetters.show("ship", 2);
  assert.equal(shown?.headers["Walnats-Trace"], "trace-2");
  assert.equal(await admin.deadLetters.show("ship", 99), undefined);
  await assert.rejects(admin.deadLetters.show("nobody", 1), /No dead letters of actor "nobody"/);
});

test("DeadLetters.redrive re-emits each dead letter once with a derived uid, then deletes it", async () => {
  await using server = await startNatsServer();
  await using s = await withDeadLetters(server.url, 3);
  await using admin = await connectAdmin(server.url);

  const dry = await admin.deadLetters.redrive({ dryRun: true });
  assert.equal(dry.redriven, 3);
  assert.equal(dry.dryRun, true);
  assert.equal((await admin.deadLetters.list()).length, 3, "a dry run changes nothing");

  s.fix();
  const result = await admin.deadLetters.redrive({ limit: 2 });
  assert.equal(result.redriven, 2);
  assert.equal(result.duplicates, 0);
  assert.deepEqual(result.failed, []);
  assert.deepEqual((await admin.deadLetters.list()).map((d) => d.seq), [3], "only the third stays");

  // The re-emitted messages carry the original headers and payload, and a derived uid.
  const jsm = await jetstreamManager(admin.connection);
  const re = (await jsm.streams.getMessage(s.e.streamName, { seq: result.items[0]!.eventSeq }))!;
  assert.deepEqual(re.json(), { n: -1 });
  assert.equal(re.header.get("Walnats-Trace"), "trace-1");
  assert.match(
    re.header.get("Nats-Msg-Id"),
    new RegExp(`^redrive:${s.ship.deadLetters!.streamName}:1:\\d+$`),
  );
  assert.equal(re.header.get("Walnats-Dead-Actor"), "", "no dead-letter header is copied");

  await s.actors.listen({ burst: true, logger: quiet, heartbeat: false });
  assert.deepEqual(s.handled.sort((a, b) => a - b), [-2, -1]);
});

test("DeadLetters.redrive run again after an interruption never emits twice", async () => {
  await using server = await startNatsServer();
  await using s = await withDeadLetters(server.url, 1);
  await using admin = await connectAdmin(server.url);
  const jsm = await jetstreamManager(admin.connection);
  const dead = s.ship.deadLetters!.streamName;
  // An interrupted run: the re-emit was stored, the dead letter not yet deleted.
  const stored = (await jsm.streams.getMessage(dead, { seq: 1 }))!;
  const js = jetstream(admin.connection);
  const h = (await import("@nats-io/nats-core")).headers();
  h.set("Nats-Msg-Id", redriveUid(dead, stored));
  await js.publish(s.e.name, stored.data, { headers: h });
  const before = (await jsm.streams.info(s.e.streamName)).state.last_seq;

  const result = await admin.deadLetters.redrive();
  assert.equal(result.redriven, 1);
  assert.equal(result.duplicates, 1, "the stream had it already");
  assert.equal(
    (await jsm.streams.info(s.e.streamName)).state.last_seq,
    before,
    "not emitted twice",
  );
  assert.equal((await admin.deadLetters.list()).length, 0, "and the dead letter is gone");
});

test("DeadLetters.redrive keeps a dead letter whose event cannot store it", async () => {
  await using server = await startNatsServer();
  await using s = await withDeadLetters(server.url, 2);
  await using admin = await connectAdmin(server.url);
  const jsm = await jetstreamManager(admin.connection);
  await jsm.streams.delete(s.e.streamName);
  const result = await admin.deadLetters.redrive();
  assert.equal(result.redriven, 0);
  assert.equal(result.failed.length, 2);
  assert.equal((await admin.deadLetters.list()).length, 2, "nothing lost");
});

test("DeadLetters.retry redrives one by sequence; purge deletes", async () => {
  await using server = await startNatsServer();
  await using s = await withDeadLetters(server.url, 4);
  await using admin = await connectAdmin(server.url);
  s.fix();
  const one = await admin.deadLetters.retry("ship", 3);
  assert.equal(one.redriven, 1);
  assert.deepEqual(one.items.map((i) => i.seq), [3]);
  assert.deepEqual((await admin.deadLetters.list()).map((d) => d.seq), [1, 2, 4]);
  await assert.rejects(admin.deadLetters.retry("ship", 3), /has no message 3/);

  assert.deepEqual(await admin.deadLetters.purge({ filter: (d) => d.seq === 2 }), { purged: 1 });
  assert.deepEqual((await admin.deadLetters.list()).map((d) => d.seq), [1, 4]);
  assert.deepEqual(await admin.deadLetters.purge({ actor: "ship" }), { purged: 2 });
  assert.equal((await admin.deadLetters.list()).length, 0);
  await s.actors.listen({ burst: true, logger: quiet, heartbeat: false });
  assert.deepEqual(s.handled, [-3]);
});
