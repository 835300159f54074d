// Fault: bad input from a foreign or buggy publisher. Each bad message is terminated (or
// handled) with a clear log line, and the next message is handled as usual.
import { test } from "node:test";
import assert from "node:assert/strict";
import { getRandomValues } from "node:crypto";
import * as v from "valibot";
import { jetstream, type JetStreamClient, jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/nats-core";
import { startNatsServer } from "../../testing.ts";
import {
  Actor,
  Actors,
  type ConnectedEvents,
  type DeadLetter,
  Event,
  Events,
  parseDeadLetter,
} from "../../mod.ts";
import { sleep, uniqueName, until } from "../_helpers.ts";
import { recordingLogger } from "./_fault.ts";

const encoder = new TextEncoder();
const schema = v.object({ id: v.number(), pad: v.optional(v.string()) });
type Message = v.InferOutput<typeof schema>;

interface Bench {
  readonly e: Event<Message, number>;
  readonly pub: ConnectedEvents;
  readonly js: JetStreamClient;
  /** Ids the handler saw. */
  readonly handled: number[];
  readonly log: string[];
  /** Emit a good message and wait until it is handled. */
  good(id: number): Promise<void>;
  /** The actor's consumer counts. */
  consumer(): Promise<{ ackPending: number; pending: number; redelivered: number; seq: number }>;
  /** What the actor's dead-letter stream holds. */
  deadLetters(): Promise<DeadLetter[]>;
}

/** A server, an event (messages of at most 1 KiB) and a listener, for one bad input. */
async function withBench(body: (bench: Bench) => Promise<void>): Promise<void> {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("bad"), schema, {
    limits: { messageSize: 1024 },
  }).withResponse(v.number());
  const events = new Events(e);
  await using pub = await events.connect(server.url);
  await pub.register();
  const handled: number[] = [];
  const actor = new Actor("careful", e, ({ id }) => {
    handled.push(id);
    return id * 2;
  }, { retryDelay: [50] });
  await using conn = await new Actors(actor).connect(server.url);
  await conn.register();
  const jsm = await jetstreamManager(conn.connection);
  const log: string[] = [];
  const controller = new AbortController();
  const listening = conn.listen({
    signal: controller.signal,
    pollDelay: 1000,
    logger: recordingLogger(log),
  });
  try {
    await body({
      e,
      pub,
      js: jetstream(pub.connection),
      handled,
      log,
      async good(id) {
        await pub.emit(e, { id }, { sync: true });
        await until(() => handled.includes(id), 10_000, `message ${id} to be handled`);
      },
      async consumer() {
        const info = await jsm.consumers.info(e.streamName, "careful");
        return {
          ackPending: info.num_ack_pending,
          pending: info.num_pending,
          redelivered: info.num_redelivered,
          seq: info.delivered.consumer_seq,
        };
      },
      async deadLetters() {
        const stream = actor.deadLetters!.streamName;
        const count = await jsm.streams.info(stream).then((i) => i.state.messages, () => 0);
        const letters: DeadLetter[] = [];
        for (let seq = 1; seq <= count; seq++) {
          letters.push(parseDeadLetter((await jsm.streams.getMessage(stream, { seq }))!));
        }
        return letters;
      },
    });
  } finally {
    controller.abort();
    await listening;
  }
}

/** Publish one bad message, then a good one; the bad one must be terminated with a log. */
async function terminated(
  publish: (bench: Bench) => Promise<unknown>,
  expected: RegExp,
): Promise<void> {
  await withBench(async (bench) => {
    await bench.good(1);
    await publish(bench);
    await bench.good(2);
    await until(async () => (await bench.consumer()).ackPending === 0, 5_000, "all settled");
    assert.deepEqual(bench.handled, [1, 2], "the bad message never reached the handler");
    assert.deepEqual(await bench.consumer(), { ackPending: 0, pending: 0, redelivered: 0, seq: 3 });
    const line = bench.log.find((l) => /terminated/.test(l));
    assert.ok(line, `a log line says the message was terminated:\n${bench.log.join("\n")}`);
    assert.match(line, expected);
    // It is the message's fault: a copy went to the actor's dead letters first.
    const letters = await bench.deadLetters();
    assert.equal(letters.length, 1, "one dead letter");
    assert.equal(letters[0]?.reason, "undecodable");
    assert.equal(letters[0]?.streamSeq, 2);
    assert.match(letters[0]!.error, /^\w*Error: ./);
  });
}

test("Actors.listen terminates random bytes with a log and handles the next message", async () => {
  const bytes = getRandomValues(new Uint8Array(64));
  bytes[0] = 0xff; // never valid UTF-8 JSON
  await terminated(({ js, e }) => js.publish(e.name, bytes), /cannot decode/);
});

test("Actors.listen terminates invalid JSON with a log and handles the next message", async () => {
  await terminated(({ js, e }) => js.publish(e.name, encoder.encode('{"id":')), /cannot decode/);
});

test("Actors.listen terminates JSON that fails the schema with a log and handles the next message", async () => {
  await terminated(
    ({ js, e }) => js.publish(e.name, encoder.encode('{"id":"seven"}')),
    /cannot decode.*id/i,
  );
});

test("Actors.listen terminates a non-numeric Walnats-Delay with a log and handles the next message", async () => {
  await terminated(({ js, e }) => {
    const h = headers();
    h.set("Walnats-Delay", "soon");
    return js.publish(e.name, encoder.encode('{"id":9}'), { headers: h });
  }, /Walnats-Delay.*soon/);
});

test("Actors.listen keeps an oversized payload out: the stream refuses it and the next message is handled", async () => {
  await withBench(async ({ js, e, pub, good, handled, consumer }) => {
    await good(1);
    const big = encoder.encode(JSON.stringify({ id: 7, pad: "x".repeat(4096) }));
    await assert.rejects(js.publish(e.name, big), /maximum|size/i);
    // Through walnats: a sync emit reports the refusal instead of losing the message silently.
    await assert.rejects(
      pub.emit(e, { id: 8, pad: "x".repeat(4096) }, { sync: true }),
      /maximum|size/i,
    );
    await good(2);
    assert.deepEqual(handled, [1, 2]);
    assert.equal((await consumer()).pending, 0);
  });
});

test("Actors.listen does not spin on a delay too large for the server: it holds or terminates it", async () => {
  await withBench(async ({ js, e, good, handled, consumer, log }) => {
    await good(1);
    for (const moment of ["1e12", "999999999999999"]) {
      const h = headers();
      h.set("Walnats-Delay", moment); // years beyond what the server's nanoseconds can hold
      await js.publish(e.name, encoder.encode('{"id":9}'), { headers: h });
    }
    await good(2);
    const before = (await consumer()).seq;
    await sleep(1000);
    const { seq, redelivered } = await consumer();
    assert.ok(seq - before <= 2, `${seq - before} deliveries in 1 s: a redelivery storm`);
    assert.ok(redelivered <= 2, `${redelivered} redelivered`);
    assert.deepEqual(handled, [1, 2], "the delayed message is not handled before its time");
    // When it is terminated rather than held, the log says why.
    for (const line of log.filter((l) => /terminated/.test(l))) assert.match(line, /Walnats-Delay/);
  });
});

test("Actors.listen answers a request whose reply inbox nobody listens to, and goes on", async () => {
  await withBench(async ({ js, e, good, handled, consumer, log }) => {
    await good(1);
    const h = headers();
    h.set("Walnats-Reply", "_INBOX.nobody.listens.here");
    await js.publish(e.name, encoder.encode('{"id":5}'), { headers: h });
    await good(2);
    assert.deepEqual(handled, [1, 5, 2]);
    await until(async () => (await consumer()).ackPending === 0, 5_000, "all acked");
    assert.equal((await consumer()).redelivered, 0);
    assert.deepEqual(log.filter((l) => /^error/.test(l)), []);
  });
});
