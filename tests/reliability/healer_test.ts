// The listener's healer on its own: backoff while the server cannot help, one episode at
// a time, and what sets an episode off.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import type { ConsumerConfig } from "@nats-io/jetstream";
import { startNatsServer } from "../../testing.ts";
import { Actor } from "../../mod.ts";
import { Healer, type Patient } from "../../src/actors/_healing.ts";
import { registerConsumer } from "../../src/actors/consumer.ts";
import { uniqueName, until } from "../_helpers.ts";
import { idEvent, recordingLogger } from "./_fault.ts";

function patient(
  name: string,
  state: Partial<Patient> = {},
): Patient & { resets: number; followed: ConsumerConfig[] } {
  const p = {
    actor: new Actor(name, idEvent(uniqueName("heal")), () => {}) as Patient["actor"],
    outstanding: 0,
    lastActivity: Date.now(),
    resets: 0,
    followed: [] as ConsumerConfig[],
    resetPulls() {
      p.resets += 1;
    },
    follow(config: ConsumerConfig) {
      p.followed.push(config);
    },
    ...state,
  };
  return p;
}

test("Healer retries with doubling backoff up to its cap while JetStream cannot answer", async () => {
  await using server = await startNatsServer({ jetstream: false });
  const nc = await connect({ servers: server.url });
  const stop = new AbortController();
  const log: string[] = [];
  const p = patient("no-js");
  const healer = new Healer([p], {
    nc,
    logger: recordingLogger(log),
    signal: stop.signal,
    silence: 1000,
    minDelay: 10,
    maxDelay: 40,
  });
  try {
    healer.check(p, "a test asked");
    healer.check(p, "a second episode must not start");
    await until(() => healer.record(p).attempts >= 5, 20_000, "five attempts");
    const delays = log.map((l) => /retrying in (\d+) ms/.exec(l)?.[1]).filter(Boolean).map(Number);
    assert.deepEqual(delays.slice(0, 4), [10, 20, 40, 40]);
    assert.equal(log.filter((l) => /checking its consumer/.test(l)).length, 1);
    assert.equal(healer.record(p).state, "retrying");
    assert.ok(healer.record(p).lastError);
    assert.equal(p.resets, 0, "no pulls while the consumer cannot be checked");
  } finally {
    stop.abort();
    await healer.settled();
    await nc.close();
  }
});

test("Healer.watch starts an episode for silence or a consumer said to be gone, not otherwise", async () => {
  await using server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  const stop = new AbortController();
  const log: string[] = [];
  const fine = patient("fine", { outstanding: 4 });
  const idle = patient("idle", { outstanding: 0, lastActivity: Date.now() - 60_000 });
  const silent = patient("silent", { outstanding: 4, lastActivity: Date.now() - 5_000 });
  const gone = patient("gone", { outstanding: 0, lastActivity: 0 });
  const healer = new Healer([fine, idle, silent, gone], {
    nc,
    logger: recordingLogger(log),
    signal: stop.signal,
    silence: 2000,
  });
  try {
    healer.watch();
    assert.equal(healer.busy(fine), false);
    assert.equal(healer.busy(idle), false, "nothing awaited, nothing missed");
    assert.equal(healer.busy(silent), true);
    assert.equal(healer.busy(gone), true);
    // Their streams do not exist: each is created, with the consumer, and pulls restart.
    await until(() => silent.resets === 1 && gone.resets === 1, 10_000, "both healed");
    assert.equal(healer.record(gone).recreated, 1);
    assert.equal(healer.record(gone).state, "ok");
    assert.ok(log.some((l) => /"silent": no answer to its pull requests for \d+ ms/.test(l)));
    assert.ok(log.some((l) => /"gone": the server says its consumer is gone/.test(l)));
  } finally {
    stop.abort();
    await healer.settled();
    await nc.close();
  }
});

test("Healer.follow hands each consumer's live settings to its actor, and heals a missing one", async () => {
  await using server = await startNatsServer();
  const nc = await connect({ servers: server.url });
  const stop = new AbortController();
  const present = patient("present");
  const absent = patient("absent");
  const healer = new Healer([present, absent], {
    nc,
    logger: recordingLogger([]),
    signal: stop.signal,
    silence: 1000,
  });
  try {
    const jsm = await healer.manager();
    await registerConsumer(jsm, present.actor, { logger: recordingLogger([]) });
    await jsm.streams.add({
      name: absent.actor.event.streamName,
      subjects: [absent.actor.event.name],
    });
    await healer.follow();
    assert.equal(present.followed.length, 1);
    assert.equal(present.followed[0]!.durable_name, "present");
    // The missing consumer is recreated by an episode, which then hands over its settings.
    await until(() => absent.followed.length === 1 && !healer.busy(absent), 5000, "the episode");
    assert.equal(absent.resets, 1);
  } finally {
    stop.abort();
    await healer.settled();
    await nc.close();
  }
});
