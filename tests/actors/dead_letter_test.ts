// Dead letters through a real nats-server: what an actor gives up on is copied to its
// dead-letter event before the original is terminated, and is never lost on the way.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { jetstream, jetstreamManager, RetentionPolicy } from "@nats-io/jetstream";
import { startNatsServer } from "../../testing.ts";
import {
  Actor,
  Actors,
  type DeadLetter,
  Event,
  Events,
  type Logger,
  UnrecoverableError,
} from "../../mod.ts";
import { uniqueName, until } from "../_helpers.ts";

const quiet: Logger = { error() {}, warn() {}, info() {} };

function recording(lines: string[]): Logger {
  return {
    error: (m) => lines.push(`error ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    info: (m) => lines.push(`info ${m}`),
  };
}

test("Actor.deadLetters names one ordinary event per actor, and can be turned off", () => {
  const e = new Event("order.placed", v.number());
  const a = new Actor("ship-order", e, () => {});
  assert.equal(a.deadLetters?.name, "dead-letter.order.placed.ship-order");
  assert.equal(a.deadLetters?.streamName, "dead-letter-order-placed-ship-order");
  assert.equal(new Actor("quiet", e, () => {}, { deadLetters: false }).deadLetters, undefined);
  // Names too long to spell out get a stable hash of both names.
  const long = new Actor("a".repeat(200), new Event("b".repeat(60), v.number()), () => {});
  const again = new Actor("a".repeat(200), new Event("b".repeat(60), v.number()), () => {});
  assert.ok(long.deadLetters!.name.length <= 255);
  assert.match(long.deadLetters!.name, /^dead-letter\.[0-9a-z]+\.a+$/);
  assert.equal(long.deadLetters!.name, again.deadLetters!.name);
  const other = new Actor("a".repeat(200), new Event("c".repeat(60), v.number()), () => {});
  assert.notEqual(long.deadLetters!.name, other.deadLetters!.name);
});

test("a message that failed its last attempt is dead-lettered with why, then terminated", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("order"), v.object({ id: v.number() }));
  const failing = new Actor("ship", e, () => {
    throw new Error("warehouse is on fire");
  }, { maxAttempts: 2, retryDelay: [10] });
  const dead: DeadLetter[] = [];
  const inspector = new Actor("inspect", failing.deadLetters!, (letter) => void dead.push(letter));
  await using actors = await new Actors(failing, inspector).connect(server.url);
  await actors.register();
  await using events = await new Events(e).connect(server.url);
  await events.emit(e, { id: 7 }, { uid: "order-7", traceId: "trace-7", sync: true });
  const lines: string[] = [];
  const stop = new AbortController();
  const listening = actors.listen({ signal: stop.signal, logger: recording(lines) });
  await until(() => dead.length === 1, 10_000, "the dead letter");
  stop.abort();
  await listening;

  const [letter] = dead;
  assert.equal(letter?.actor, "ship");
  assert.equal(letter?.event, e.name);
  assert.equal(letter?.reason, "failed");
  assert.equal(letter?.error, "Error: warehouse is on fire");
  assert.equal(letter?.attempts, 2);
  assert.equal(letter?.streamSeq, 1);
  assert.equal(letter?.headers["Nats-Msg-Id"], "order-7");
  assert.equal(letter?.headers["Walnats-Trace"], "trace-7");
  assert.deepEqual(JSON.parse(atob(letter?.payload)), { id: 7 });
  assert.ok(Date.parse(letter.timestamp) <= Date.now());
  assert.ok(
    lines.some((l) => /message 1 of actor "ship" terminated: attempt 2 of 2 failed/.test(l)),
    lines.join("\n"),
  );

  const jsm = await jetstreamManager(events.connection);
  const original = await jsm.consumers.info(e.streamName, "ship");
  assert.equal(original.num_pending + original.num_ack_pending, 0, "the original is terminated");
  const stream = await jsm.streams.info(failing.deadLetters!.streamName);
  assert.equal(stream.config.retention, RetentionPolicy.Limits, "kept even with no listener");
  const raw = (await jsm.streams.getMessage(stream.config.name, { seq: 1 }))!;
  assert.equal(raw.header.get("Walnats-Dead-Actor"), "ship");
  assert.equal(raw.header.get("Walnats-Dead-Reason"), "failed");
  assert.equal(raw.header.get("Walnats-Dead-Attempts"), "2");
  assert.equal(raw.header.get("Walnats-Dead-Stream-Seq"), "1");
  assert.equal(raw.header.get("Walnats-Dead-Error"), "Error: warehouse is on fire");
});

test("undecodable payloads and UnrecoverableError are dead-lettered at once", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("job"), v.object({ n: v.number() }));
  const a = new Actor("worker", e, (m) => {
    if (m.n < 0) throw new UnrecoverableError("negative");
  }, { retryDelay: [10] });
  await using actors = await new Actors(a).connect(server.url);
  await actors.register();
  await using events = await new Events(e).connect(server.url);
  const js = jetstream(events.connection);
  const garbage = new Uint8Array([0xff, 0x00, 0x7b]);
  await js.publish(e.name, garbage);
  await events.emit(e, { n: -1 }, { sync: true });
  await events.emit(e, { n: 1 }, { sync: true });
  await actors.listen({ burst: true, logger: quiet });

  const jsm = await jetstreamManager(events.connection);
  const dl = a.deadLetters!.streamName;
  assert.equal((await jsm.streams.info(dl)).state.messages, 2);
  const letters = await Promise.all([1, 2].map(async (seq) => {
    const m = await jsm.streams.getMessage(dl, { seq });
    return m!.json<DeadLetter>();
  }));
  const byReason = Object.fromEntries(letters.map((l) => [l.reason, l]));
  assert.deepEqual(
    Uint8Array.from(atob(byReason.undecodable?.payload ?? ""), (c) => c.charCodeAt(0)),
    garbage,
  );
  assert.equal(byReason.undecodable?.attempts, 1);
  assert.match(String(byReason.undecodable?.error), /SerializerError: Serializer "json" failed/);
  assert.equal(byReason.unrecoverable?.error, "UnrecoverableError: negative");
  const info = await jsm.consumers.info(e.streamName, "worker");
  assert.equal(info.num_pending + info.num_ack_pending, 0);
  assert.equal(info.num_redelivered, 0, "neither was retried");
});

test("deadLetters: false terminates without a copy", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("job"), v.number());
  const a = new Actor("worker", e, () => {
    throw new UnrecoverableError("no");
  }, { deadLetters: false });
  await using actors = await new Actors(a).connect(server.url);
  await actors.register();
  await using events = await new Events(e).connect(server.url);
  await events.emit(e, 1, { sync: true });
  await actors.listen({ burst: true, logger: quiet });
  const jsm = await jetstreamManager(events.connection);
  const names = await jsm.streams.names().next();
  assert.deepEqual(names.filter((n) => n.startsWith("dead-letter")), []);
  const info = await jsm.consumers.info(e.streamName, "worker");
  assert.equal(info.num_pending + info.num_ack_pending, 0);
});

test("a message whose dead letter cannot be stored is kept, and dead-lettered once it can", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("job"), v.string());
  const a = new Actor("worker", e, () => {
    throw new UnrecoverableError("bad job");
  }, { retryDelay: [50] });
  await using events = await new Events(e).connect(server.url);
  const jsm = await jetstreamManager(events.connection);
  // A dead-letter stream that refuses the letter: its messages may be 16 bytes at most.
  await jsm.streams.add({
    name: a.deadLetters!.streamName,
    subjects: [a.deadLetters!.name],
    max_msg_size: 16,
  });
  await using actors = await new Actors(a).connect(server.url);
  await actors.register();
  await events.emit(e, "payload", { sync: true });
  const lines: string[] = [];
  const stop = new AbortController();
  const listening = actors.listen({ signal: stop.signal, logger: recording(lines) });
  await until(() => lines.filter((l) => /kept: .*could not be stored/.test(l)).length >= 2);
  const kept = await jsm.consumers.info(e.streamName, "worker");
  assert.equal(kept.num_pending + kept.num_ack_pending, 1, "the message is still there");
  // The operator fixes the stream; the next attempt stores the letter and terminates.
  await jsm.streams.update(a.deadLetters!.streamName, { max_msg_size: -1 });
  await until(async () => (await jsm.streams.info(a.deadLetters!.streamName)).state.messages === 1);
  await until(async () => {
    const info = await jsm.consumers.info(e.streamName, "worker");
    return info.num_pending + info.num_ack_pending === 0;
  });
  stop.abort();
  await listening;
  const stored = await jsm.streams.getMessage(a.deadLetters!.streamName, { seq: 1 });
  const letter = stored!.json<DeadLetter>();
  assert.equal(letter.reason, "unrecoverable");
  assert.ok(letter.attempts >= 2);
});
