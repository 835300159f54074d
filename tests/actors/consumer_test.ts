// Consumer drift (issue 20): register() reports what differs on the server, refuses a filter
// subject change unless allowed, and running listeners time their pulses from the live ack_wait.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { AckPolicy, jetstreamManager } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import { startNatsServer } from "../../testing.ts";
import { Actor, Actors, ConsumerConfigError, Event, Events, type Logger } from "../../mod.ts";
import { sleep, uniqueName, until } from "../_helpers.ts";
import { connect } from "../../src/connection.ts";
import { Puller } from "../../src/actors/consumer.ts";

function recordingLogger(lines: string[]): Logger {
  return {
    error: (m) => lines.push(`error ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    info: (m) => lines.push(`info ${m}`),
  };
}

test("Actors.register reports every consumer setting that differs, a warning each", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.number());
  await using events = await new Events(e).connect(server.url);
  await events.register();
  const old = new Actor("drift", e, () => {}, {
    ackWait: 10_000,
    maxAckPending: 100,
    maxAttempts: 3,
    description: "old",
  });
  await using first = await new Actors(old).connect(server.url);
  assert.deepEqual(await first.register({ logger: recordingLogger([]) }), []);
  const renewed = new Actor("drift", e, () => {}, {
    ackWait: 2_000,
    maxAckPending: 50,
    maxAttempts: 5,
    description: "new",
  });
  const lines: string[] = [];
  await using second = await new Actors(renewed).connect(server.url);
  const changes = await second.register({ logger: recordingLogger(lines) });
  assert.deepEqual(
    changes.map((c) => [c.actor, c.option, c.field, c.from, c.to]),
    [
      ["drift", "ackWait", "ack_wait", 10_000, 2_000],
      ["drift", "maxAttempts", "max_deliver", 7, 11],
      ["drift", "maxAckPending", "max_ack_pending", 100, 50],
      ["drift", "description", "description", "old", "new"],
    ],
  );
  assert.equal(lines.length, 4, lines.join("\n"));
  assert.ok(lines.every((l) => l.startsWith('warn actor "drift"')), lines.join("\n"));
  assert.ok(lines.some((l) => l.includes("ackWait (ack_wait, ms) 10000 → 2000")), lines.join("\n"));
  const jsm = await jetstreamManager(second.connection);
  const { config } = await jsm.consumers.info(e.streamName, "drift");
  assert.equal(config.ack_wait, nanos(2_000));
  assert.equal(config.max_ack_pending, 50);
  // Nothing differs any more.
  assert.deepEqual(await second.register({ logger: recordingLogger(lines) }), []);
  assert.equal(lines.length, 4);
});

test("Actors.register refuses to change a consumer's filter subject unless allowed", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.number());
  await using events = await new Events(e).connect(server.url);
  const jsm = await jetstreamManager(events.connection);
  // A stream with a second subject, and a consumer on that one (made by someone else). On
  // nats-server 2.9 a create with another filter would silently move the consumer over.
  const other = `${e.name}.other`;
  await jsm.streams.add({ name: e.streamName, subjects: [e.name, other] });
  await jsm.consumers.add(e.streamName, {
    durable_name: "filtered",
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(16_000), // the actor's default: only the filter differs
    filter_subject: other,
  });
  const actor = new Actor("filtered", e, () => {});
  await using conn = await new Actors(actor).connect(server.url);
  await assert.rejects(conn.register({ logger: recordingLogger([]) }), (error: unknown) => {
    assert.ok(error instanceof ConsumerConfigError, String(error));
    assert.equal(error.actor, "filtered");
    assert.ok(error.message.includes(`filters subject "${other}"`), error.message);
    assert.ok(error.message.includes(`declaration "${e.name}"`), error.message);
    assert.ok(error.message.includes("register({ allowFilterChange: true })"), error.message);
    return true;
  });
  assert.equal((await jsm.consumers.info(e.streamName, "filtered")).config.filter_subject, other);
  const changes = await conn.register({ allowFilterChange: true, logger: recordingLogger([]) });
  assert.deepEqual(changes.map((c) => [c.field, c.from, c.to]), [[
    "filter_subject",
    other,
    e.name,
  ]]);
  assert.equal((await jsm.consumers.info(e.streamName, "filtered")).config.filter_subject, e.name);
});

test("Actors.register takes a consumer without filter on a one-subject stream (as Python makes it)", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.number());
  await using events = await new Events(e).connect(server.url);
  await events.register();
  const jsm = await jetstreamManager(events.connection);
  await jsm.consumers.add(e.streamName, {
    durable_name: "pythonic",
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(16_000),
    max_deliver: 3,
  });
  await using conn = await new Actors(new Actor("pythonic", e, () => {}, { maxAttempts: 3 }))
    .connect(server.url);
  const changes = await conn.register({ logger: recordingLogger([]) });
  assert.deepEqual(changes.map((c) => [c.field, c.from, c.to]), [
    ["filter_subject", "", e.name],
    ["max_deliver", 3, 7],
  ]);
});

/**
 * A rolling upgrade: an old instance listens with its declaration's ackWait, a new one
 * registers a lower ackWait, then a job runs longer than the new ackWait. The old instance
 * must pulse by the live ack_wait, or the server redelivers the message while it runs.
 */
async function upgrade(options: {
  oldAckWait: number;
  newAckWait: number;
  job: number;
  listenAfterUpgrade: boolean;
  checkInterval: number;
}): Promise<{ runs: number; redelivered: number; lines: string[] }> {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.number());
  await using events = await new Events(e).connect(server.url);
  await events.register();
  let runs = 0;
  let done = 0;
  const handler = async () => {
    runs += 1;
    await sleep(options.job);
    done += 1;
  };
  const oldActor = new Actor("upgrade", e, handler, { ackWait: options.oldAckWait });
  const newActor = new Actor("upgrade", e, handler, { ackWait: options.newAckWait });
  const lines: string[] = [];
  await using old = await new Actors(oldActor).connect(server.url);
  await old.register({ logger: recordingLogger(lines) });
  const upgradeNow = async () => {
    await using fresh = await new Actors(newActor).connect(server.url);
    await fresh.register({ logger: recordingLogger(lines) });
  };
  if (options.listenAfterUpgrade) await upgradeNow();
  const stop = new AbortController();
  const listening = old.listen({
    signal: stop.signal,
    consumerCheckInterval: options.checkInterval,
    logger: recordingLogger(lines),
  });
  try {
    if (!options.listenAfterUpgrade) {
      await sleep(200);
      await upgradeNow();
      await sleep(2.5 * options.checkInterval); // two checks of the consumer
    }
    await events.emit(e, 1, { sync: true });
    await until(() => done >= 1, options.job * 3, "the first run to end");
    await sleep(300);
  } finally {
    stop.abort();
    await listening;
  }
  const jsm = await jetstreamManager(events.connection);
  const info = await jsm.consumers.info(e.streamName, "upgrade");
  return { runs, redelivered: info.num_redelivered, lines };
}

test("Actors.listen follows an ack_wait lowered by another instance's register: a 5 s job runs once", async () => {
  const { runs, redelivered, lines } = await upgrade({
    oldAckWait: 10_000,
    newAckWait: 2_000,
    job: 5_000,
    listenAfterUpgrade: false,
    checkInterval: 500,
  });
  assert.equal(runs, 1, lines.join("\n"));
  assert.equal(redelivered, 0);
  assert.ok(
    lines.some((l) => l.includes("ack_wait is 2000 ms (was 10000 ms here)")),
    lines.join("\n"),
  );
});

test("Actors.listen reads the consumer's live ack_wait when it starts", async () => {
  const { runs, redelivered, lines } = await upgrade({
    oldAckWait: 10_000,
    newAckWait: 1_000,
    job: 2_500,
    listenAfterUpgrade: true,
    checkInterval: 60_000, // only the read at the start can tell it in time
  });
  assert.equal(runs, 1, lines.join("\n"));
  assert.equal(redelivered, 0);
});

test("Puller in burst mode keeps one no_wait request on its way, so its end leaves nothing outstanding", async () => {
  // A no_wait request that gets part of its batch ends with 408 and Nats-Pending-Messages
  // on nats-server 2.9 and 2.10, with a bare 404 on 2.15: counting a second request
  // against the first's end would go wrong on one of them.
  await using server = await startNatsServer();
  const nc = await connect(server.url);
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "NW", subjects: ["nw"] });
    await jsm.consumers.add("NW", { durable_name: "c", ack_policy: AckPolicy.Explicit });
    for (let i = 0; i < 3; i++) nc.publish("nw", "x");
    await nc.flush();
    await until(async () => (await jsm.streams.info("NW")).state.messages === 3);
    const ends: number[] = [];
    let received = 0;
    const puller: Puller = new Puller(nc, "NW", "c", {
      expires: 1000,
      heartbeat: 500,
      noWait: true,
      onMessage: () => void received++,
      onRequestEnd: () => void ends.push(puller.outstanding),
    });
    puller.pull(10);
    assert.equal(puller.ready, false, "not ready while its request is on its way");
    puller.pull(10); // not sent
    assert.equal(puller.polls, 1);
    await until(() => ends.length === 1);
    assert.equal(received, 3);
    assert.deepEqual(ends, [0], `outstanding when the request ended (${server.version})`);
    assert.equal(puller.ready, true);
    puller.pull(10);
    await until(() => ends.length === 2);
    assert.deepEqual(ends, [0, 0]);
    assert.equal(received, 3);
    await puller.drain();
  } finally {
    await nc.close();
  }
});
