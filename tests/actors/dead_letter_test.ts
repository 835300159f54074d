// Dead letters through a real nats-server: what an actor gives up on is copied to its
// dead-letter event before the original is terminated, and is never lost on the way.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { DiscardPolicy, jetstream, jetstreamManager, RetentionPolicy } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/nats-core";
import { startNatsServer } from "../../testing.ts";
import {
  Actor,
  Actors,
  DEAD_LETTER_AGE,
  type DeadLetter,
  Event,
  Events,
  type Logger,
  parseDeadLetter,
  UnrecoverableError,
} from "../../mod.ts";
import { settledInfo, sleep, uniqueName, until } from "../_helpers.ts";
import { sendDeadLetter } from "../../src/actors/dead_letter.ts";

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
  // An ordinary event, whose limits say that its stream keeps what it gets.
  assert.equal(Object.getPrototypeOf(a.deadLetters), Event.prototype);
  assert.deepEqual(a.deadLetters?.limits, { age: DEAD_LETTER_AGE, retention: "limits" });
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

  const letter = dead[0]!;
  assert.equal(letter.actor, "ship");
  assert.equal(letter.event, e.name);
  assert.equal(letter.reason, "failed");
  assert.equal(letter.error, "Error: warehouse is on fire");
  assert.equal(letter.attempts, 2);
  assert.equal(letter.streamSeq, 1);
  assert.equal(letter.headers["Nats-Msg-Id"], "order-7");
  assert.equal(letter.headers["Walnats-Trace"], "trace-7");
  assert.ok(letter.payload instanceof Uint8Array);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(letter.payload)), { id: 7 });
  assert.ok(Date.parse(letter.timestamp) <= Date.now());
  assert.ok(
    lines.some((l) => /message 1 of actor "ship" terminated: attempt 2 of 2 failed/.test(l)),
    lines.join("\n"),
  );

  const jsm = await jetstreamManager(events.connection);
  const original = await settledInfo(jsm, e.streamName, "ship");
  assert.equal(original.num_pending + original.num_ack_pending, 0, "the original is terminated");
  const stream = await jsm.streams.info(failing.deadLetters!.streamName);
  assert.equal(stream.config.retention, RetentionPolicy.Limits, "kept even with no listener");
  // Made by the one stream registration: registering the dead-letter event finds nothing to change.
  {
    await using again = await new Events(failing.deadLetters!).connect(server.url);
    await again.register({ update: false });
  }
  const raw = (await jsm.streams.getMessage(stream.config.name, { seq: 1 }))!;
  assert.equal(raw.header.get("Walnats-Dead-Actor"), "ship");
  assert.equal(raw.header.get("Walnats-Dead-Reason"), "failed");
  assert.equal(raw.header.get("Walnats-Dead-Attempts"), "2");
  assert.equal(raw.header.get("Walnats-Dead-Stream-Seq"), "1");
  assert.equal(raw.header.get("Walnats-Dead-Error"), "Error: warehouse is on fire");
  assert.equal(raw.header.get("Walnats-Dead-Timestamp"), letter.timestamp);
  // The body is the original payload, byte for byte; the original's uid is kept renamed,
  // so that the dead-letter stream does not deduplicate on it.
  assert.deepEqual(raw.data, new TextEncoder().encode('{"id":7}'));
  assert.equal(raw.header.get("Walnats-Dead-Nats-Msg-Id"), "order-7");
  assert.equal(raw.header.get("Walnats-Trace"), "trace-7");
  assert.deepEqual(parseDeadLetter(raw), { ...letter, seq: 1, time: raw.time.toISOString() });
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
    return parseDeadLetter(m!);
  }));
  const byReason = Object.fromEntries(letters.map((l) => [l.reason, l]));
  assert.deepEqual(byReason.undecodable?.payload, garbage);
  assert.equal(byReason.undecodable?.attempts, 1);
  assert.match(String(byReason.undecodable?.error), /SerializerError: Serializer "json" failed/);
  assert.equal(byReason.unrecoverable?.error, "UnrecoverableError: negative");
  const info = await settledInfo(jsm, e.streamName, "worker");
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
  const info = await settledInfo(jsm, e.streamName, "worker");
  assert.equal(info.num_pending + info.num_ack_pending, 0);
});

test("a message whose dead letter cannot be stored for now is kept, and dead-lettered once it can, without running the handler again", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("job"), v.string());
  let runs = 0;
  const a = new Actor("worker", e, () => {
    runs++;
    throw new UnrecoverableError("bad job");
  }, { retryDelay: [50] });
  await using events = await new Events(e).connect(server.url);
  const jsm = await jetstreamManager(events.connection);
  // A full dead-letter stream that refuses new messages ("maximum messages exceeded",
  // a failure that passes when someone makes room).
  await jsm.streams.add({
    name: a.deadLetters!.streamName,
    subjects: [a.deadLetters!.name],
    max_msgs: 1,
    discard: DiscardPolicy.New,
  });
  await jetstream(events.connection).publish(a.deadLetters!.name, "older");
  await using actors = await new Actors(a).connect(server.url);
  await actors.register();
  await events.emit(e, "payload", { sync: true });
  const lines: string[] = [];
  const stop = new AbortController();
  const listening = actors.listen({ signal: stop.signal, logger: recording(lines) });
  await until(() => lines.filter((l) => /kept: .*could not be stored/.test(l)).length >= 2);
  const kept = await jsm.consumers.info(e.streamName, "worker");
  assert.equal(kept.num_pending + kept.num_ack_pending, 1, "the message is still there");
  // The operator makes room; the next delivery stores the letter and terminates.
  await jsm.streams.purge(a.deadLetters!.streamName);
  await until(async () => (await jsm.streams.info(a.deadLetters!.streamName)).state.messages === 1);
  await until(async () => {
    const info = await jsm.consumers.info(e.streamName, "worker");
    return info.num_pending + info.num_ack_pending === 0;
  });
  stop.abort();
  await listening;
  assert.equal(runs, 1, "redeliveries only retried the copy");
  const { state } = await jsm.streams.info(a.deadLetters!.streamName);
  const stored = await jsm.streams.getMessage(a.deadLetters!.streamName, { seq: state.last_seq });
  const letter = parseDeadLetter(stored!);
  assert.equal(letter.reason, "unrecoverable");
  assert.equal(letter.attempts, 1);
  assert.equal(letter.error, "UnrecoverableError: bad job");
  assert.equal(actors.health().actors.worker, undefined, "no listener now");
});

test("a message whose dead letter can never be stored is terminated with an error line and counted, not kept", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("job"), v.string());
  let runs = 0;
  const a = new Actor("worker", e, () => {
    runs++;
    throw new UnrecoverableError("bad job");
  }, { retryDelay: [50] });
  await using events = await new Events(e).connect(server.url);
  const jsm = await jetstreamManager(events.connection);
  // A dead-letter stream whose messages may be 16 bytes at most: this copy never fits.
  await jsm.streams.add({
    name: a.deadLetters!.streamName,
    subjects: [a.deadLetters!.name],
    max_msg_size: 16,
  });
  await using actors = await new Actors(a).connect(server.url);
  await actors.register();
  await events.emit(e, "a payload longer than sixteen bytes", { sync: true });
  await events.emit(e, "another", { sync: true });
  const lines: string[] = [];
  const stop = new AbortController();
  const listening = actors.listen({ signal: stop.signal, logger: recording(lines) });
  await until(() => actors.health().actors.worker?.deadLetters.lost === 2, 10_000, "2 lost");
  await until(async () => {
    const info = await jsm.consumers.info(e.streamName, "worker");
    return info.num_pending + info.num_ack_pending === 0;
  });
  await sleep(300); // nothing comes back
  assert.deepEqual(actors.health().actors.worker?.deadLetters, { stored: 0, lost: 2 });
  stop.abort();
  await listening;
  assert.equal(runs, 2, "each message ran once");
  const errors = lines.filter((l) => /terminated WITHOUT a dead letter/.test(l));
  assert.equal(errors.length, 2, lines.join("\n"));
  assert.match(errors[0]!, /^error message 1 of actor "worker" terminated WITHOUT a dead letter: /);
  assert.match(errors[0]!, /UnrecoverableError: bad job/);
  assert.match(errors[0]!, /code 10054/);
  assert.equal(lines.filter((l) => /kept/.test(l)).length, 0, lines.join("\n"));
  const info = await jsm.consumers.info(e.streamName, "worker");
  assert.equal(info.delivered.consumer_seq, 2, "one delivery each");
});

test("two different give-ups of messages with the same uid are two dead letters", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("job"), v.number(), { limits: { duplicateWindow: 100 } });
  const a = new Actor("worker", e, () => {
    throw new UnrecoverableError("no");
  });
  await using events = await new Events(e).connect(server.url);
  await events.register();
  await using actors = await new Actors(a).connect(server.url);
  await actors.register();
  const stop = new AbortController();
  const listening = actors.listen({ signal: stop.signal, logger: quiet });
  await events.emit(e, 1, { uid: "same", sync: true });
  await until(() => actors.health().actors.worker?.deadLetters.stored === 1);
  await sleep(300); // past the event's duplicate window: the same uid is a new message
  await events.emit(e, 2, { uid: "same", sync: true });
  await until(() => actors.health().actors.worker?.deadLetters.stored === 2);
  stop.abort();
  await listening;
  const jsm = await jetstreamManager(events.connection);
  const stream = a.deadLetters!.streamName;
  assert.equal((await jsm.streams.info(stream)).state.messages, 2, "both stored");
  const letters = await Promise.all(
    [1, 2].map(async (seq) => parseDeadLetter((await jsm.streams.getMessage(stream, { seq }))!)),
  );
  assert.deepEqual(letters.map((l) => new TextDecoder().decode(l.payload)), ["1", "2"]);
  assert.deepEqual(letters.map((l) => l.headers["Nats-Msg-Id"]), ["same", "same"]);
});

test("sendDeadLetter stores a retried publish of the same give-up once, and another give-up again", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("job"), v.number());
  const a = new Actor("worker", e, () => {});
  await using events = await new Events(e).connect(server.url);
  const nc = events.connection;
  const h = natsHeaders();
  h.set("Nats-Msg-Id", "uid-1"); // the original's uid: kept, renamed, and not deduplicated on
  h.set("Nats-Expected-Stream", e.streamName); // would make the dead letter's publish fail
  const fields = {
    actor: "worker",
    event: e.name,
    reason: "failed" as const,
    error: "Error: boom",
    attempts: 3,
    streamSeq: 7,
    timestamp: Date.UTC(2026, 0, 2),
    headers: h,
    data: new Uint8Array([1, 2, 3]),
  };
  const js = jetstream(nc);
  await sendDeadLetter(nc, js, a.deadLetters!, fields); // creates the stream
  await sendDeadLetter(nc, js, a.deadLetters!, fields); // a retry after a lost answer
  await sendDeadLetter(nc, js, a.deadLetters!, { ...fields, streamSeq: 8 });
  const jsm = await jetstreamManager(nc);
  const stream = a.deadLetters!.streamName;
  assert.equal((await jsm.streams.info(stream)).state.messages, 2);
  const raw = (await jsm.streams.getMessage(stream, { seq: 1 }))!;
  assert.equal(raw.header.get("Nats-Msg-Id"), `worker:${e.name}:7:${fields.timestamp}`);
  const letter = parseDeadLetter(raw);
  assert.deepEqual(letter.headers, {
    "Nats-Msg-Id": "uid-1",
    "Nats-Expected-Stream": e.streamName,
  });
  assert.equal(letter.timestamp, "2026-01-02T00:00:00.000Z");
  assert.deepEqual(letter.payload, new Uint8Array([1, 2, 3]));
});

test("an actor of the dead-letter event gets the DeadLetter with the original payload and headers", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("job"), v.object({ n: v.number() }));
  const a = new Actor("worker", e, () => {
    throw new UnrecoverableError("no");
  });
  const got: DeadLetter[] = [];
  const inspector = new Actor("inspect", a.deadLetters!, (letter) => void got.push(letter), {
    deadLetters: false,
  });
  await using events = await new Events(e).connect(server.url);
  await using actors = await new Actors(a, inspector).connect(server.url);
  await actors.register();
  await events.emit(e, { n: 5 }, { meta: { "X-Tenant": "acme" }, delay: 1, sync: true });
  const stop = new AbortController();
  const listening = actors.listen({ signal: stop.signal, logger: quiet });
  await until(() => got.length === 1);
  stop.abort();
  await listening;
  const letter = got[0]!;
  assert.equal(letter.headers["X-Tenant"], "acme");
  assert.equal(letter.headers["Walnats-Delay"], undefined, "dropped");
  assert.deepEqual(JSON.parse(new TextDecoder().decode(letter.payload)), { n: 5 });
  assert.equal(letter.reason, "unrecoverable");
  assert.throws(
    () => a.deadLetters!.serializer.encode(letter),
    /dead letters are written by the listener/,
  );
});

test("a dead-letter stream name taken by a stream without its subject loses the copy at once, with a reason", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("job"), v.string());
  const a = new Actor("worker", e, () => {
    throw new UnrecoverableError("bad job");
  });
  await using events = await new Events(e).connect(server.url);
  const jsm = await jetstreamManager(events.connection);
  await jsm.streams.add({ name: a.deadLetters!.streamName, subjects: ["elsewhere"] });
  await using actors = await new Actors(a).connect(server.url);
  await actors.register();
  await events.emit(e, "x", { sync: true });
  const lines: string[] = [];
  await actors.listen({ burst: true, logger: recording(lines) });
  const lost = lines.filter((l) => /terminated WITHOUT a dead letter/.test(l));
  assert.equal(lost.length, 1, lines.join("\n"));
  assert.match(lost[0]!, /a stream named "dead-letter-job-.*-worker" exists without the subject/);
  const info = await settledInfo(jsm, e.streamName, "worker");
  assert.equal(info.delivered.consumer_seq, 1, "one delivery");
  assert.equal(info.num_pending + info.num_ack_pending, 0);
});

test("a give-up whose dead-letter stream is missing creates it as the event declares, and again once deleted", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("job"), v.string());
  const a = new Actor("worker", e, () => {
    throw new UnrecoverableError("bad job");
  });
  await using events = await new Events(e).connect(server.url);
  await using actors = await new Actors(a).connect(server.url);
  await actors.register();
  const jsm = await jetstreamManager(events.connection);
  const dead = a.deadLetters!;
  for (const round of [1, 2]) {
    await events.emit(e, `x${round}`, { sync: true });
    await actors.listen({ burst: true, logger: quiet });
    assert.equal(actors.health().actors.worker, undefined);
    const info = await jsm.streams.info(dead.streamName);
    // Nobody listens to the dead letters: limits retention keeps them.
    assert.equal(info.state.messages, 1, `round ${round}`);
    assert.equal(info.config.retention, RetentionPolicy.Limits);
    assert.equal(info.config.max_age, DEAD_LETTER_AGE * 1e6);
    assert.deepEqual(info.config.subjects, [dead.name]);
    const stored = await jsm.streams.getMessage(dead.streamName, { seq: info.state.last_seq });
    assert.equal(new TextDecoder().decode(stored!.data), JSON.stringify(`x${round}`));
    // The config of the one stream registration: registering the event changes nothing.
    {
      await using again = await new Events(dead).connect(server.url);
      await again.register({ update: false });
    }
    await jsm.streams.delete(dead.streamName);
  }
});

test("a dead-letter stream the server refuses to create loses the copy at once, with the server's reason", async () => {
  // An account that may hold one stream: the event's. The dead-letter stream is refused (4xx).
  await using server = await startNatsServer({
    config:
      "accounts { APP: { jetstream: { max_streams: 1 }, users: [{ user: app, password: pw }] } }",
  });
  const url = server.url.replace("nats://", "nats://app:pw@");
  const e = new Event(uniqueName("job"), v.string());
  const a = new Actor("worker", e, () => {
    throw new UnrecoverableError("bad job");
  });
  await using events = await new Events(e).connect(url);
  await events.register();
  await using actors = await new Actors(a).connect(url);
  await actors.register();
  await events.emit(e, "x", { sync: true });
  const lines: string[] = [];
  await actors.listen({ burst: true, logger: recording(lines) });
  const lost = lines.filter((l) => /terminated WITHOUT a dead letter/.test(l));
  assert.equal(lost.length, 1, lines.join("\n"));
  assert.match(
    lost[0]!,
    /its dead letter cannot be stored: its stream cannot be created: .*\(code 10027\)/,
  );
  const info = await jetstreamManager(events.connection)
    .then((jsm) => settledInfo(jsm, e.streamName, "worker"));
  assert.equal(info.delivered.consumer_seq, 1, "one delivery");
  assert.equal(info.num_pending + info.num_ack_pending, 0);
});

test("a copy that keeps failing until the server's last delivery says that the message is stuck", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("job"), v.string());
  const a = new Actor("worker", e, () => {
    throw new UnrecoverableError("bad job");
  }, { maxAttempts: 1, retryDelay: [20] }); // max_deliver 3
  await using events = await new Events(e).connect(server.url);
  const jsm = await jetstreamManager(events.connection);
  await jsm.streams.add({
    name: a.deadLetters!.streamName,
    subjects: [a.deadLetters!.name],
    max_msgs: 1,
    discard: DiscardPolicy.New,
  });
  await jetstream(events.connection).publish(a.deadLetters!.name, "older");
  await using actors = await new Actors(a).connect(server.url);
  await actors.register();
  await events.emit(e, "payload", { sync: true });
  const lines: string[] = [];
  const stop = new AbortController();
  const listening = actors.listen({ signal: stop.signal, logger: recording(lines) });
  await until(() => lines.some((l) => /last delivery/.test(l)), 10_000, "the last delivery");
  await sleep(200);
  stop.abort();
  await listening;
  const kept = lines.filter((l) => /kept/.test(l));
  assert.equal(kept.length, 3, lines.join("\n"));
  assert.match(kept[2]!, /that was the server's last delivery of it \(max_deliver 3\): it stays/);
  const { state } = await jsm.streams.info(e.streamName);
  assert.equal(state.messages, 1, "still in the stream");
});
