// Dead letters through the admin API against a real nats-server: list, show, redrive (nothing
// lost, nothing doubled), retry, purge.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { startNatsServer } from "../../testing.ts";
import { Actor, Actors, bytes, Event, Events, type Logger, UnrecoverableError } from "../../mod.ts";
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
  // One job at a time: the dead letters are then stored in the order of the messages (with
  // more, concurrent give-ups may store them in any order, and the tests name them by seq).
  await actors.listen({ burst: true, logger: quiet, heartbeat: false, maxJobs: 1 });
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

test("DeadLetters reads the byte-for-byte format and redrives its exact payload and headers", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("blob"), bytes());
  const store = new Actor("store", e, () => {});
  await using events = await new Events(e).connect(server.url);
  await events.register();
  await using actors = await new Actors(store).connect(server.url);
  await actors.register();
  const dead = store.deadLetters!;
  const jsm = await jetstreamManager(events.connection);
  await jsm.streams.add({ name: dead.streamName, subjects: [dead.name] });
  // A dead letter as the listener writes it: the original body and headers (every value),
  // the original's Nats-* renamed, Walnats-Dead-* fields, and its own uid.
  const payload = new Uint8Array([0, 255, 10, 13, 0x7b, 1]);
  const h = natsHeaders();
  h.append("X-Tenant", "a");
  h.append("X-Tenant", "b");
  h.set("Walnats-Trace", "t-1");
  h.set("Walnats-Dead-Nats-Msg-Id", "original-uid");
  h.set("Walnats-Dead-Actor", "store");
  h.set("Walnats-Dead-Event", e.name);
  h.set("Walnats-Dead-Reason", "failed");
  h.set("Walnats-Dead-Error", "Error: disk full");
  h.set("Walnats-Dead-Attempts", "5");
  h.set("Walnats-Dead-Stream-Seq", "9");
  h.set("Walnats-Dead-Timestamp", "2026-01-02T03:04:05.678Z");
  h.set("Nats-Msg-Id", `store:${e.name}:9:1767323045678`);
  await jetstream(events.connection).publish(dead.name, payload, { headers: h });

  await using admin = await connectAdmin(server.url);
  const [letter] = await admin.deadLetters.list();
  assert.ok(letter);
  assert.deepEqual(
    [letter.actor, letter.event, letter.reason, letter.error, letter.attempts, letter.streamSeq],
    ["store", e.name, "failed", "Error: disk full", 5, 9],
  );
  assert.equal(letter.timestamp, "2026-01-02T03:04:05.678Z");
  assert.deepEqual(letter.headers, {
    "X-Tenant": "a",
    "Walnats-Trace": "t-1",
    "Nats-Msg-Id": "original-uid",
  });
  assert.deepEqual(new Uint8Array(letter.payload), payload);
  assert.equal(letter.preview, "\\x00\ufffd\\x0a\\x0d{\\x01");

  const result = await admin.deadLetters.redrive();
  assert.equal(result.redriven, 1);
  const re = (await jsm.streams.getMessage(e.streamName, { seq: result.items[0]!.eventSeq }))!;
  assert.deepEqual(new Uint8Array(re.data), payload, "byte for byte");
  assert.deepEqual(re.header.values("X-Tenant"), ["a", "b"], "every value of each header");
  assert.equal(re.header.get("Walnats-Trace"), "t-1");
  assert.match(re.header.get("Nats-Msg-Id"), /^redrive:/);
  assert.equal(re.header.get("Walnats-Dead-Reason"), "");
  assert.equal(re.header.get("Walnats-Dead-Nats-Msg-Id"), "");
});

test("a redriven dead letter is the message the actor gave up on, byte for byte and every header", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("blob"), bytes());
  let fixed = false;
  const seen: Uint8Array[] = [];
  const store = new Actor("store", e, (data) => {
    if (!fixed) throw new UnrecoverableError("disk full");
    seen.push(data);
  });
  await using events = await new Events(e).connect(server.url);
  await events.register();
  await using actors = await new Actors(store).connect(server.url);
  await actors.register();
  const payload = new Uint8Array([0, 255, 10, 13, 0x7b, 1, 0xc3]);
  const h = natsHeaders();
  h.append("X-Tenant", "a");
  h.append("X-Tenant", "b");
  h.set("Nats-Msg-Id", "blob-1");
  await jetstream(events.connection).publish(e.name, payload, { headers: h });
  await actors.listen({ burst: true, logger: quiet, heartbeat: false });

  await using admin = await connectAdmin(server.url);
  const [letter] = await admin.deadLetters.list();
  assert.equal(letter?.reason, "unrecoverable");
  assert.equal(letter?.headers["Nats-Msg-Id"], "blob-1", "the original uid, for people");
  fixed = true;
  const result = await admin.deadLetters.redrive();
  assert.equal(result.redriven, 1);
  const jsm = await jetstreamManager(events.connection);
  const re = (await jsm.streams.getMessage(e.streamName, { seq: result.items[0]!.eventSeq }))!;
  assert.deepEqual(new Uint8Array(re.data), payload);
  assert.deepEqual(re.header.values("X-Tenant"), ["a", "b"]);
  assert.match(
    re.header.get("Nats-Msg-Id"),
    /^redrive:/,
    "a new uid: the original is in the window",
  );
  await actors.listen({ burst: true, logger: quiet, heartbeat: false });
  assert.equal(seen.length, 1);
  assert.deepEqual(new Uint8Array(seen[0]!), payload);
  assert.equal((await admin.deadLetters.list()).length, 0);
});
