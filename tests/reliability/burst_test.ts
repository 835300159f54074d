// Burst listening: returns promptly once the consumers are empty, never returns early,
// never hangs on a missing consumer.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { startNatsServer } from "../../testing.ts";
import { Actor, Actors, Event, Events } from "../../mod.ts";
import { addInterest, sleep, uniqueName } from "../_helpers.ts";
import { idEvent, recordingLogger } from "./_fault.ts";

test("Actors.listen burst returns soon after the last job when jobs finish one by one", async () => {
  await using server = await startNatsServer();
  const e = idEvent(uniqueName("burst"));
  await using events = await new Events(e).connect(server.url);
  await events.register();
  let lastEnd = 0;
  const handled: number[] = [];
  await using conn = await new Actors(
    new Actor("serial", e, async ({ id }) => {
      await sleep(20 + id * 3);
      handled.push(id);
      lastEnd = Date.now();
    }, { maxJobs: 4 }),
  ).connect(server.url);
  await conn.register();
  for (let id = 0; id < 30; id++) await events.emit(e, { id }, { sync: true });
  await conn.listen({ burst: true, logger: recordingLogger([]) });
  const tail = Date.now() - lastEnd;
  assert.equal(handled.length, 30);
  // A no_wait pull that finds nothing waits out its expiry (1 s) on nats-server 2.9;
  // the burst must not wait for it.
  assert.ok(tail < 600, `burst returned ${tail} ms after the last job`);
  console.log(`burst: returned ${tail} ms after the last of 30 jobs`);
});

test("Actors.listen burst leaves a retry that is not due yet to the next run, losing nothing", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("burst-retry"), v.string());
  await using events = await new Events(e).connect(server.url);
  await events.register();
  const attempts: number[] = [];
  const actor = new Actor("flaky", e, (_m, job) => {
    attempts.push(job.attempt);
    if (job.attempt === 1) throw new Error("first attempt fails");
  }, { retryDelay: [300] });
  await using conn = await new Actors(actor).connect(server.url);
  await conn.register();
  await events.emit(e, "x", { sync: true });
  await conn.listen({ burst: true, logger: recordingLogger([]) });
  assert.deepEqual(attempts, [1]);
  await sleep(400);
  await conn.listen({ burst: true, logger: recordingLogger([]) });
  assert.deepEqual(attempts, [1, 2]);
});

test("Actors.listen burst recreates a missing consumer instead of hanging", async () => {
  await using server = await startNatsServer();
  const e = idEvent(uniqueName("burst-missing"));
  await using events = await new Events(e).connect(server.url);
  await events.register();
  await addInterest(events.connection, e.streamName); // keeps the messages in the stream
  for (let id = 0; id < 5; id++) await events.emit(e, { id }, { sync: true });
  const handled = new Set<number>();
  // No register(): the actor's consumer does not exist when the burst starts.
  await using conn = await new Actors(
    new Actor("late", e, ({ id }) => void handled.add(id)),
  ).connect(server.url);
  const log: string[] = [];
  const started = Date.now();
  await conn.listen({ burst: true, logger: recordingLogger(log) });
  assert.equal(handled.size, 5);
  assert.ok(Date.now() - started < 10_000);
  assert.ok(log.some((l) => /recreated its consumer "late"/.test(l)), log.join("\n"));
});
