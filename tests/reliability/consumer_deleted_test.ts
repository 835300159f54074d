// Fault: the durable consumer (or the whole stream) is deleted under a running listener.
import { test } from "node:test";
import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsServer } from "../../testing.ts";
import { Actor, Actors, type ConnectedActors, Events } from "../../mod.ts";
import { addInterest, sleep, uniqueName, until } from "../_helpers.ts";
import { idEvent, recordingLogger } from "./_fault.ts";
import { AHEAD_PER_SLOT, MAX_AHEAD } from "../../src/actors/pull_plan.ts";

function listening(conn: ConnectedActors, log: string[]) {
  const controller = new AbortController();
  const running = conn.listen({
    signal: controller.signal,
    pollDelay: 1000,
    logger: recordingLogger(log),
  });
  let settled = false;
  running.then(() => settled = true, () => settled = true);
  return {
    get settled() {
      return settled;
    },
    async stop() {
      controller.abort();
      await running;
    },
  };
}

test("Actors.listen recreates a deleted consumer and handles what is emitted afterwards", async () => {
  await using server = await startNatsServer();
  const e = idEvent(uniqueName("deleted"));
  await using events = await new Events(e).connect(server.url);
  await events.register();
  const handled = new Set<number>();
  await using conn = await new Actors(
    new Actor("victim", e, ({ id }) => void handled.add(id)),
  ).connect(server.url);
  await conn.register();
  const jsm = await jetstreamManager(conn.connection);
  const log: string[] = [];
  const listener = listening(conn, log);
  for (let id = 0; id < 20; id++) await events.emit(e, { id }, { sync: true });
  await until(() => handled.size === 20, 10_000, "the first messages");

  await jsm.consumers.delete(e.streamName, "victim");
  const deleted = Date.now();
  await until(
    () => conn.health().actors.victim!.healing.recreated === 1,
    20_000,
    "the consumer to be recreated",
  );
  const recreatedAfter = Date.now() - deleted;
  const info = await jsm.consumers.info(e.streamName, "victim");
  assert.equal(info.config.max_ack_pending, 1000, "recreated with the actor's declared config");
  for (let id = 20; id < 40; id++) await events.emit(e, { id }, { sync: true });
  await until(() => handled.size === 40, 15_000, "messages emitted after the deletion");

  const health = conn.health();
  assert.equal(health.healthy, true);
  assert.equal(health.actors.victim?.healing.state, "ok");
  // Pull requests never ask for more than the slots plus what may be pulled ahead.
  const window = 16 + Math.min(AHEAD_PER_SLOT * 16, MAX_AHEAD);
  assert.ok(health.actors.victim.outstanding <= window, `${health.actors.victim.outstanding}`);
  assert.equal(listener.settled, false, "the listener kept running");
  await listener.stop();
  assert.ok(log.some((l) => /"victim".*missing.*recreating/.test(l)), log.join("\n"));
  assert.ok(log.some((l) => /recreated its consumer "victim"/.test(l)), log.join("\n"));
  // One episode, not a warning every few seconds forever.
  assert.ok(log.filter((l) => /checking its consumer/.test(l)).length <= 2, log.join("\n"));
  console.log(`consumer deleted: recreated ${recreatedAfter} ms after the deletion`);
});

test("Actors.listen resumes a run whose consumer was deleted mid-way: nothing the stream kept is lost", async () => {
  await using server = await startNatsServer();
  const e = idEvent(uniqueName("mid-run"));
  await using events = await new Events(e).connect(server.url);
  await events.register();
  // Another consumer's interest keeps the messages in the stream; without it the server
  // drops what only the deleted consumer was interested in (see RELIABILITY.md).
  await addInterest(events.connection, e.streamName);
  const counts = new Map<number, number>();
  await using conn = await new Actors(
    new Actor("victim", e, async ({ id }) => {
      await sleep(2);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }, { maxJobs: 8 }),
  ).connect(server.url);
  await conn.register();
  const jsm = await jetstreamManager(conn.connection);
  const total = 600;
  for (let id = 0; id < total; id++) await events.emit(e, { id });
  await events.connection.flush();
  const log: string[] = [];
  const listener = listening(conn, log);
  await until(() => counts.size >= 150, 20_000, "the run to be under way");
  await jsm.consumers.delete(e.streamName, "victim");
  const deletedAt = counts.size;
  await until(() => counts.size === total, 60_000, "every message handled");
  assert.equal(listener.settled, false);
  await listener.stop();
  assert.ok(deletedAt < total, "the consumer was deleted before the run ended");
  assert.equal(conn.health().listening, false);
  const duplicates = [...counts.values()].reduce((sum, n) => sum + n - 1, 0);
  // The recreated consumer starts at the stream's first message again.
  console.log(
    `consumer deleted after ${deletedAt} of ${total}: all ${total} handled, ` +
      `${duplicates} handled again by the recreated consumer`,
  );
});

test("Actors.listen recreates a deleted stream and its consumer", async () => {
  await using server = await startNatsServer();
  const e = idEvent(uniqueName("no-stream"));
  await using events = await new Events(e).connect(server.url);
  await events.register();
  const handled = new Set<number>();
  await using conn = await new Actors(
    new Actor("survivor", e, ({ id }) => void handled.add(id)),
  ).connect(server.url);
  await conn.register();
  const jsm = await jetstreamManager(conn.connection);
  const log: string[] = [];
  const listener = listening(conn, log);
  await events.emit(e, { id: 0 }, { sync: true });
  await until(() => handled.size === 1);
  await jsm.streams.delete(e.streamName);
  await until(
    () => conn.health().actors.survivor!.healing.recreated === 1,
    20_000,
    "stream and consumer to be recreated",
  );
  const stream = await jsm.streams.info(e.streamName);
  assert.equal(stream.config.retention, "interest", "the stream as the event declares it");
  for (let id = 1; id <= 10; id++) await events.emit(e, { id }, { sync: true });
  await until(() => handled.size === 11, 15_000, "messages emitted to the new stream");
  await listener.stop();
  assert.ok(
    log.some((l) => /stream ".*" is missing.*recreating the stream/.test(l)),
    log.join("\n"),
  );
});
