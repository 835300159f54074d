// Wire-level interop with the Python walnats: messages built from the exact bytes and headers
// the Python library writes (see _python_wire.ts for the sources), published with raw nats.js
// to a real nats-server, and what we write read back raw and checked against the Python rules.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import * as v from "valibot";
import { jetstream } from "@nats-io/jetstream";
import { createInbox, headers as natsHeaders, type Msg } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { startNatsServer } from "../../testing.ts";
import {
  Actor,
  Actors,
  CloudEvent,
  dateTime,
  Event,
  Events,
  type Logger,
  parseDateTime,
} from "../../mod.ts";
import { addInterest, uniqueName, until } from "../_helpers.ts";
import {
  PY_AWARE_IST,
  PY_AWARE_UTC,
  PY_CE_TIME_MS,
  PY_CE_TIME_WHOLE,
  PY_CLOCK_TICK,
  PY_CLOCK_UID,
  PY_DATE,
  PY_NAIVE_WHOLE,
  pyEpochMs,
  pyFromIsoformatBefore311,
} from "./_python_wire.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function recordingLogger(lines: string[]): Logger {
  return {
    error: (m) => lines.push(`error ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    info: (m) => lines.push(`info ${m}`),
  };
}

/** Register the event and the actor, and listen until disposed. */
async function listening<T, R>(url: string, event: Event<T, R>, actor: Actor<T, R>, log: string[]) {
  const events = await new Events(event as Event<unknown, unknown>).connect(url);
  await events.register();
  const actors = await new Actors(actor as Actor<unknown, unknown>).connect(url);
  await actors.register();
  const controller = new AbortController();
  const done = actors.listen({ logger: recordingLogger(log), signal: controller.signal });
  return {
    events,
    async [Symbol.asyncDispose]() {
      controller.abort();
      await done;
      await actors.close();
      await events.close();
    },
  };
}

/** Publish a message as the Python walnats does: JetStream, the given headers. */
async function pyPublish(
  nc: Awaited<ReturnType<typeof connect>>,
  subject: string,
  payload: string,
  headers: Record<string, string> = {},
): Promise<void> {
  const h = natsHeaders();
  for (const [name, value] of Object.entries(headers)) h.set(name, value);
  await jetstream(nc).publish(
    subject,
    encoder.encode(payload),
    Object.keys(headers).length ? { headers: h } : {},
  );
}

test("Actor gives up on a Python caller's request without answering it, and answers a caller that accepts the give-up reply", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("add"), v.object({ a: v.number() })).withResponse(v.number());
  const log: string[] = [];
  const a = new Actor("adder", e, (m) => m.a + 1);
  await using _ctx = await listening(server.url, e, a, log);
  await using nc = await connect({ servers: server.url });
  const pythonInbox = createInbox();
  const ourInbox = createInbox();
  const replies: { to: string; msg: Msg }[] = [];
  nc.subscribe(pythonInbox, {
    callback: (_err, msg) => void replies.push({ to: "python", msg }),
  });
  nc.subscribe(ourInbox, { callback: (_err, msg) => void replies.push({ to: "ours", msg }) });
  await nc.flush();

  // The Python caller: `Walnats-Reply` only; a payload the actor cannot decode.
  await pyPublish(nc, e.name, '{"a":"five"}', { "Walnats-Reply": pythonInbox });
  await until(() => log.some((l) => /terminated/.test(l)), 10_000, "the actor gave up");
  // A caller that announces it reads the give-up reply (what our request() sends).
  await pyPublish(nc, e.name, '{"a":"six"}', {
    "Walnats-Reply": ourInbox,
    "Walnats-Accept-Error": "1",
  });
  await until(() => replies.some((r) => r.to === "ours"), 10_000, "the give-up reply");
  // Both replies would come from the actor's one connection, in order: had the Python
  // caller been answered, its reply would have arrived first.
  assert.deepEqual(replies.map((r) => r.to), ["ours"]);
  const [reply] = replies;
  assert.match(reply?.msg.headers?.get("Walnats-Error") ?? "", /Invalid message of event/);
  assert.equal(reply?.msg.data.length, 0);
});

test("Actor reads the date-times and dates the Python walnats writes, naive ones as UTC", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("tick"), dateTime());
  const log: string[] = [];
  const seen: Date[] = [];
  const a = new Actor("on-tick", e, (date) => {
    seen.push(date);
  });
  await using _ctx = await listening(server.url, e, a, log);
  await using nc = await connect({ servers: server.url });
  // A Python Clock tick, with the Clock's uid, then the other shapes `isoformat()` writes.
  await pyPublish(nc, e.name, PY_CLOCK_TICK, { "Nats-Msg-Id": PY_CLOCK_UID });
  for (const payload of [PY_DATE, PY_NAIVE_WHOLE, PY_AWARE_UTC, PY_AWARE_IST]) {
    await pyPublish(nc, e.name, payload);
  }
  await until(() => seen.length + log.length >= 5, 10_000, "five messages settled");
  assert.deepEqual(log, [], "nothing terminated");
  assert.deepEqual(seen.map((d) => d.toISOString()), [
    "2026-12-03T03:49:00.001Z",
    "2026-12-03T00:00:00.000Z",
    "2026-12-03T03:49:18.000Z",
    "2026-12-03T03:49:18.001Z",
    "2026-12-03T03:49:18.001Z",
  ]);
});

test("Actor of dateTime({ naive: \"local\" }) reads Python's naive date-times in the host's time zone", async () => {
  const tz = process.env.TZ;
  process.env.TZ = "Asia/Kolkata"; // +05:30, no daylight saving time
  try {
    assert.equal(new Date(2026, 11, 3).getTimezoneOffset(), -330, "the runtime follows TZ");
    await using server = await startNatsServer();
    const e = new Event(uniqueName("tick"), dateTime({ naive: "local" }));
    const log: string[] = [];
    const seen: Date[] = [];
    const a = new Actor("on-tick", e, (date) => {
      seen.push(date);
    });
    await using _ctx = await listening(server.url, e, a, log);
    await using nc = await connect({ servers: server.url });
    await pyPublish(nc, e.name, PY_CLOCK_TICK);
    await pyPublish(nc, e.name, PY_AWARE_UTC); // a zone given is a zone kept
    await until(() => seen.length + log.length >= 2, 10_000, "two messages settled");
    assert.deepEqual(log, []);
    assert.deepEqual(seen.map((d) => d.toISOString()), [
      "2026-12-02T22:19:00.001Z",
      "2026-12-03T03:49:18.001Z",
    ]);
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
});

test('Actor of dateTime({ naive: "reject" }) terminates a naive date-time and reads a zoned one', async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("tick"), dateTime({ naive: "reject" }));
  const log: string[] = [];
  const seen: Date[] = [];
  const a = new Actor("on-tick", e, (date) => {
    seen.push(date);
  });
  await using _ctx = await listening(server.url, e, a, log);
  await using nc = await connect({ servers: server.url });
  await pyPublish(nc, e.name, PY_CLOCK_TICK);
  await pyPublish(nc, e.name, PY_AWARE_IST);
  await until(() => seen.length + log.length >= 2, 10_000, "two messages settled");
  assert.deepEqual(seen.map((d) => d.toISOString()), ["2026-12-03T03:49:18.001Z"]);
  assert.equal(log.length, 1);
  assert.match(log[0] ?? "", /terminated/);
  assert.match(log[0] ?? "", /"2026-12-03T03:49:00\.001637" is not a date-time: no time zone/);
});

test("parseDateTime reads the datetime field of a pydantic model the Python walnats emits", async () => {
  await using server = await startNatsServer();
  const User = v.object({ id: v.number(), name: v.string(), created: v.string() });
  const e = new Event(uniqueName("user-created"), User);
  const log: string[] = [];
  const seen: Date[] = [];
  const a = new Actor("on-user", e, (user) => {
    seen.push(parseDateTime(user.created));
  });
  await using _ctx = await listening(server.url, e, a, log);
  await using nc = await connect({ servers: server.url });
  // pydantic 1: `User(id=1, name="Ada", created=datetime(2026, 12, 3, 3, 49, 0, 1637))
  // .json(separators=(",", ":"))` (walnats/serializers/_serializers.py, PydanticSerializer)
  await pyPublish(nc, e.name, `{"id":1,"name":"Ada","created":"${PY_CLOCK_TICK}"}`);
  await until(() => seen.length + log.length >= 1, 10_000, "the message settled");
  assert.deepEqual(log, []);
  assert.equal(seen[0]?.toISOString(), "2026-12-03T03:49:00.001Z");
});

test("ConnectedEvents.emit writes date-times that Python's datetime.fromisoformat reads before 3.11", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("tick"), dateTime());
  await using conn = await new Events(e).connect(server.url);
  await conn.register();
  const jsm = await addInterest(conn.connection, e.streamName);
  const dates = [
    new Date(Date.UTC(2026, 11, 3, 3, 49, 18, 1)),
    new Date(Date.UTC(2026, 11, 3, 3, 49, 0, 0)),
    new Date(Date.UTC(1999, 0, 1, 23, 59, 59, 999)),
  ];
  for (const date of dates) await conn.emit(e, date, { sync: true });
  for (const [i, date] of dates.entries()) {
    const stored = await jsm.streams.getMessage(e.streamName, { seq: i + 1 });
    const text = decoder.decode(stored!.data);
    assert.match(text, /\+00:00$/, "an offset, not Z");
    const parsed = pyFromIsoformatBefore311(text); // throws where Python 3.10 raises
    assert.equal(parsed.offset, 0);
    assert.equal(pyEpochMs(parsed), date.getTime());
  }
  // The re-statement is strict where Python 3.10 is: `Z` is refused.
  assert.throws(() => pyFromIsoformatBefore311("2026-12-03T03:49:18.001Z"), /ValueError/);
});

test("ConnectedEvents.emit stores a re-sent CloudEvent once: its id is the dedup id, as in the Python walnats", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("alert"), v.string());
  await using conn = await new Events(e).connect(server.url);
  await conn.register();
  const jsm = await addInterest(conn.connection, e.streamName);
  const meta = new CloudEvent({ id: "evt-1", source: "/sensors/1", type: "com.example.alert" });
  const first = await conn.emit(e, "x", { meta, sync: true });
  const again = await conn.emit(e, "x", { meta, sync: true });
  assert.deepEqual([first?.duplicate, again?.duplicate], [false, true]);
  // An explicit uid still wins, as in Python.
  const other = await conn.emit(e, "y", { meta, uid: "other", sync: true });
  assert.equal(other?.duplicate, false);
  assert.equal((await jsm.streams.info(e.streamName)).state.messages, 2);
  const stored = await jsm.streams.getMessage(e.streamName, { seq: 1 });
  assert.equal(stored!.header.get("Nats-Msg-Id"), "evt-1");
  assert.equal(
    (await jsm.streams.getMessage(e.streamName, { seq: 2 }))!.header.get("Nats-Msg-Id"),
    "other",
  );
});

test("ConnectedEvents.emit writes ce-time as the Python walnats' CloudEvent does", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("alert"), v.string());
  await using conn = await new Events(e).connect(server.url);
  await conn.register();
  const jsm = await addInterest(conn.connection, e.streamName);
  const times = [
    new Date(Date.UTC(2026, 11, 3, 3, 49, 18, 1)),
    new Date(Date.UTC(2023, 11, 31, 23, 59, 54)),
  ];
  for (const [i, time] of times.entries()) {
    const meta = new CloudEvent({ id: `evt-${i}`, source: "/s", type: "t", time });
    await conn.emit(e, "x", { meta, sync: true });
  }
  const ceTime = async (seq: number) =>
    (await jsm.streams.getMessage(e.streamName, { seq }))!.header.get("ce-time");
  assert.equal(await ceTime(1), PY_CE_TIME_MS);
  assert.equal(await ceTime(2), PY_CE_TIME_WHOLE);
});
