// Fault: messages an actor gives up on, at the edges: a payload near the server's
// max_payload (its dead letter must fit wherever the message fitted), a copy that can
// never fit, and handlers that throw values that resist being described. Each ends in
// exactly one dead letter (or one counted error line) and one term, never in more
// deliveries than `maxAttempts`.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { startNatsServer } from "../../testing.ts";
import {
  Actor,
  Actors,
  type DeadLetter,
  Event,
  Events,
  parseDeadLetter,
  UnrecoverableError,
} from "../../mod.ts";
import { uniqueName, until } from "../_helpers.ts";
import { recordingLogger } from "./_fault.ts";

const MiB = 1024 * 1024;
const schema = v.object({ pad: v.string() });

type Mode = "failing" | "unrecoverable" | "undecodable" | "invalid-response";

/**
 * One message of `bytes` JSON bytes on a server with max_payload 1 MiB, an actor with
 * `maxAttempts: 3` that fails as `mode` says; runs until the message is settled.
 */
async function giveUp(mode: Mode, bytes: number) {
  await using server = await startNatsServer({ config: `max_payload: ${MiB}` });
  const e = new Event(uniqueName("big"), schema).withResponse(v.number());
  let runs = 0;
  const a = new Actor("worker", e, () => {
    runs++;
    if (mode === "unrecoverable") throw new UnrecoverableError("no");
    if (mode === "invalid-response") return "not a number" as unknown as number;
    throw new Error("failing");
  }, { maxAttempts: 3, retryDelay: [20] });
  await using conn = await new Actors(a).connect(server.url);
  await conn.register();
  await using events = await new Events(e).connect(server.url);
  const padding = "x".repeat(bytes - '{"pad":""}'.length);
  const payload = new TextEncoder().encode(
    mode === "undecodable" ? `{"pad":1,"x":"${padding.slice(6)}"}` : `{"pad":"${padding}"}`,
  );
  assert.equal(payload.length, bytes);
  const h = (await import("@nats-io/nats-core")).headers();
  h.set("Nats-Msg-Id", "uid-1");
  h.set("X-Tenant", "acme");
  if (mode === "invalid-response") h.set("Walnats-Reply", "_INBOX.nobody");
  await jetstream(events.connection).publish(e.name, payload, { headers: h });
  const log: string[] = [];
  const stop = new AbortController();
  const listening = conn.listen({ signal: stop.signal, logger: recordingLogger(log) });
  const jsm = await jetstreamManager(events.connection);
  try {
    await until(
      async () => {
        const info = await jsm.consumers.info(e.streamName, "worker");
        return info.num_pending + info.num_ack_pending === 0;
      },
      20_000,
      "the message to be settled",
    );
    // Anything more would come within the retry delay.
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    stop.abort();
    await listening;
  }
  const deliveries = (await jsm.consumers.info(e.streamName, "worker")).delivered.consumer_seq;
  const dl = a.deadLetters!.streamName;
  const count = await jsm.streams.info(dl).then((s) => s.state.messages, () => 0);
  const letters: DeadLetter[] = [];
  for (let seq = 1; seq <= count; seq++) {
    letters.push(parseDeadLetter((await jsm.streams.getMessage(dl, { seq }))!));
  }
  const left = (await jsm.streams.info(e.streamName)).state.messages;
  return { runs, deliveries, letters, payload, log, left, health: conn.health() };
}

for (
  const [mode, runs, deliveries] of [
    ["failing", 3, 3],
    ["unrecoverable", 1, 1],
    ["undecodable", 0, 1],
    ["invalid-response", 1, 1],
  ] as const
) {
  test(`a 0.9 MiB message given up on (${mode}) on a 1 MiB server is dead-lettered once, byte for byte`, async () => {
    const result = await giveUp(mode, Math.floor(0.9 * MiB));
    console.log(
      `${mode}: ${result.runs} handler runs, ${result.deliveries} deliveries, ` +
        `${result.letters.length} dead letter(s)`,
    );
    assert.equal(result.runs, runs, "handler runs");
    assert.equal(result.deliveries, deliveries, "deliveries");
    assert.equal(result.letters.length, 1, result.log.join("\n"));
    const letter = result.letters[0]!;
    assert.equal(letter.reason, mode === "failing" ? "failed" : mode);
    assert.equal(letter.attempts, deliveries);
    assert.deepEqual(letter.payload, result.payload);
    assert.equal(letter.headers["Nats-Msg-Id"], "uid-1");
    assert.equal(letter.headers["X-Tenant"], "acme");
    assert.equal(letter.headers["Walnats-Reply"], undefined);
    assert.equal(result.log.filter((l) => /terminated/.test(l)).length, 1, result.log.join("\n"));
  });
}

test("a message whose dead letter is over max_payload is terminated with an error line, not stranded", async () => {
  // The message fits; its copy, with the Walnats-Dead-* headers, does not.
  const result = await giveUp("failing", MiB - 200);
  assert.equal(result.runs, 3);
  assert.equal(result.deliveries, 3);
  assert.equal(result.letters.length, 0);
  assert.equal(result.left, 0, "not stranded in the stream");
  const lost = result.log.filter((l) => /terminated WITHOUT a dead letter/.test(l));
  assert.equal(lost.length, 1, result.log.join("\n"));
  assert.match(lost[0]!, /^error message 1 of actor "worker"/);
  assert.match(lost[0]!, /attempt 3 of 3 failed: Error: failing/);
  assert.match(lost[0]!, /max_payload/);
});

test("handlers that throw values which resist being described are dead-lettered once each", async () => {
  await using server = await startNatsServer();
  const cyclic: Record<string, unknown> = { code: 7 };
  cyclic.self = cyclic;
  const throwing = {
    get message(): string {
      throw new Error("getter");
    },
    toString(): string {
      throw new Error("toString");
    },
  };
  const badError = new Error("x");
  Object.defineProperty(badError, "message", {
    get() {
      throw new Error("getter");
    },
  });
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const thrown: unknown[] = [
    throwing,
    badError,
    null,
    undefined,
    Symbol("sym"),
    "x".repeat(10 * MiB),
    cyclic,
    revoked.proxy,
    Object.create(null),
    12,
  ];
  const e = new Event(uniqueName("hostile"), v.number()).withResponse(v.number());
  let runs = 0;
  const a = new Actor("worker", e, (n) => {
    runs++;
    throw thrown[n];
  }, { maxAttempts: 1 });
  await using conn = await new Actors(a).connect(server.url);
  await conn.register();
  await using events = await new Events(e).connect(server.url);
  const log: string[] = [];
  const stop = new AbortController();
  const listening = conn.listen({ signal: stop.signal, logger: recordingLogger(log) });
  // Requests too: the caller is told the text of whatever was thrown.
  const answers = await Promise.all(
    thrown.map((_, n) => events.request(e, n, { timeout: 10_000 }).catch((error) => error)),
  );
  await until(() => conn.health().actors.worker?.deadLetters.stored === thrown.length);
  stop.abort();
  await listening;
  assert.equal(runs, thrown.length);
  assert.ok(answers.every((a) => a instanceof Error && a.name === "ResponseError"), `${answers}`);
  const jsm = await jetstreamManager(events.connection);
  const dl = a.deadLetters!.streamName;
  const errors = new Map<number, string>();
  for (let seq = 1; seq <= thrown.length; seq++) {
    const letter = parseDeadLetter((await jsm.streams.getMessage(dl, { seq }))!);
    errors.set(Number(new TextDecoder().decode(letter.payload)), letter.error);
    assert.ok(new TextEncoder().encode(letter.error).length <= 1024);
    assert.doesNotMatch(letter.error, /[\r\n]/);
  }
  assert.equal(errors.size, thrown.length);
  assert.equal(errors.get(1), "Error");
  assert.equal(errors.get(2), "null");
  assert.equal(errors.get(3), "undefined");
  assert.equal(errors.get(4), "Symbol(sym)");
  assert.match(errors.get(5)!, /^x+…$/);
  assert.match(errors.get(6)!, /object/i);
  assert.equal(errors.get(7), "(an object that cannot be described)");
  assert.equal(errors.get(8), "{}");
  assert.equal(errors.get(9), "12");
  const info = await jsm.consumers.info(e.streamName, "worker");
  assert.equal(info.delivered.consumer_seq, thrown.length, "one delivery each");
});
