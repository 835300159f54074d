import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { z } from "zod";
import { type } from "arktype";
import { RetentionPolicy } from "@nats-io/jetstream";
import type { MsgHdrsImpl } from "@nats-io/nats-core";
import { startNatsServer } from "../../testing.ts";
import {
  CloudEvent,
  Event,
  Events,
  StreamConfigError,
  StreamExistsError,
  ValidationError,
} from "../../mod.ts";
import { addInterest, uniqueName, until } from "../_helpers.ts";

const User = v.object({ id: v.number(), name: v.string() });

test("Events.register creates an interest stream with one subject and the limits", async () => {
  await using server = await startNatsServer();
  const e = new Event("shop.order-placed", User, {
    description: "An order was placed",
    limits: {
      age: 60_000,
      consumers: 3,
      messages: 100,
      bytes: 1 << 20,
      messageSize: 1024,
      duplicateWindow: 30_000,
    },
  });
  await using conn = await new Events(e).connect(server.url);
  await conn.register();
  const jsm = await addInterest(conn.connection, "shop-order-placed");
  const { config } = await jsm.streams.info("shop-order-placed");
  assert.deepEqual(config.subjects, ["shop.order-placed"]);
  assert.equal(config.retention, RetentionPolicy.Interest);
  assert.equal(config.description, "An order was placed");
  assert.equal(config.max_age, 60_000 * 1e6);
  assert.equal(config.max_consumers, 3);
  assert.equal(config.max_msgs, 100);
  assert.equal(config.max_bytes, 1 << 20);
  assert.equal(config.max_msg_size, 1024);
  assert.equal(config.duplicate_window, 30_000 * 1e6);
  assert.equal(config.num_replicas, 1);
});

test("Events.register limits are enforced by the server", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string(), { limits: { messages: 2, messageSize: 64 } });
  await using conn = await new Events(e).connect(server.url);
  await conn.register();
  const jsm = await addInterest(conn.connection, e.streamName);
  for (const m of ["a", "b", "c"]) await conn.emit(e, m, { sync: true });
  const info = await jsm.streams.info(e.streamName);
  assert.equal(info.state.messages, 2);
  assert.equal(info.state.first_seq, 2);
  await assert.rejects(
    conn.emit(e, "x".repeat(100), { sync: true }),
    /maximum message size|message size exceeds/i,
  );
});

test("Events.register updates an existing stream and is idempotent", async () => {
  await using server = await startNatsServer();
  const name = uniqueName();
  await using conn1 = await new Events(new Event(name, v.string(), { limits: { messages: 5 } }))
    .connect(server.url);
  await conn1.register();
  await conn1.register();
  await using conn2 = await new Events(new Event(name, v.string(), { limits: { messages: 9 } }))
    .connect(server.url);
  await conn2.register();
  const jsm = await addInterest(conn2.connection, name);
  assert.equal((await jsm.streams.info(name)).config.max_msgs, 9);
  // Removing a limit resets it.
  await using conn3 = await new Events(new Event(name, v.string())).connect(server.url);
  await conn3.register();
  assert.equal((await jsm.streams.info(name)).config.max_msgs, -1);
});

test("Events.register with update off raises StreamExistsError naming the event and the field", async () => {
  await using server = await startNatsServer();
  const name = uniqueName();
  await using conn1 = await new Events(new Event(name, v.string(), { limits: { messages: 5 } }))
    .connect(server.url);
  await conn1.register();
  await using conn2 = await new Events(new Event(name, v.string(), { limits: { messages: 7 } }))
    .connect(server.url);
  await assert.rejects(conn2.register({ update: false }), (e: Error) => {
    assert.ok(e instanceof StreamExistsError);
    assert.equal(e.event, name);
    assert.match(e.message, new RegExp(`Cannot register event "${name}"`));
    assert.match(e.message, /limits\.messages \(5 → 7\)/);
    return true;
  });
});

test("Events.register maps an immutable change and an invalid config to StreamConfigError", async () => {
  await using server = await startNatsServer();
  const name = uniqueName();
  await using conn = await new Events(new Event(name, v.string())).connect(server.url);
  const jsm = await (await import("@nats-io/jetstream")).jetstreamManager(conn.connection);
  // An existing stream with limits retention: retention cannot be changed by an update.
  await jsm.streams.add({ name, subjects: [name], retention: RetentionPolicy.Limits });
  await assert.rejects(conn.register(), (e: Error) => {
    assert.ok(e instanceof StreamConfigError, String(e));
    assert.equal(e.event, name);
    assert.ok(e.fields.includes("retention"), e.message);
    assert.match(e.message, /retention/);
    return true;
  });
  // Replicas > 1 on a single server is invalid.
  const r3 = new Event(uniqueName(), v.string(), { limits: { replicas: 3 } });
  await using conn3 = await new Events(r3).connect(server.url);
  await assert.rejects(conn3.register(), (e: Error) => {
    assert.ok(e instanceof StreamConfigError, String(e));
    assert.match(e.message, new RegExp(`event "${r3.name}"`));
    assert.match(e.message, /replicas/i);
    return true;
  });
});

test("Events.register with create off leaves missing streams alone", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  await using conn = await new Events(e).connect(server.url);
  await conn.register({ create: false });
  const { jetstreamManager } = await import("@nats-io/jetstream");
  const jsm = await jetstreamManager(conn.connection);
  await assert.rejects(jsm.streams.info(e.streamName), /stream not found/);
});

test("ConnectedEvents.emit with the same uid twice stores one message and reports the duplicate", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  await using conn = await new Events(e).connect(server.url);
  await conn.register();
  const jsm = await addInterest(conn.connection, e.streamName);
  const first = await conn.emit(e, "hello", { uid: "order-1", sync: true });
  const second = await conn.emit(e, "hello", { uid: "order-1", sync: true });
  assert.deepEqual(first, { seq: 1, duplicate: false });
  assert.equal(second.duplicate, true);
  // A core (non-sync) emit is deduplicated by the stream too.
  await conn.emit(e, "hello", { uid: "order-1" });
  await conn.connection.flush();
  assert.equal((await jsm.streams.info(e.streamName)).state.messages, 1);
});

test("ConnectedEvents.emit writes payload and headers byte-exact on the wire", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), User);
  await using conn = await new Events(e).connect(server.url);
  await conn.register();
  const jsm = await addInterest(conn.connection, e.streamName);
  await conn.emit(e, { id: 1, name: "Zoë" }, { uid: "u-1", traceId: "t-1", sync: true });
  const stored = (await jsm.streams.getMessage(e.streamName, { seq: 1 }))!;
  assert.equal(new TextDecoder().decode(stored.data), '{"id":1,"name":"Zoë"}');
  const raw = new TextDecoder().decode((stored.header as MsgHdrsImpl).encode());
  assert.equal(raw, "NATS/1.0\r\nNats-Msg-Id: u-1\r\nWalnats-Trace: t-1\r\n\r\n");
  // Without options there is no header block at all.
  await conn.emit(e, { id: 2, name: "x" }, { sync: true });
  const plain = (await jsm.streams.getMessage(e.streamName, { seq: 2 }))!;
  assert.equal(plain.header.keys().length, 0);
});

test("ConnectedEvents.emit delay writes Walnats-Delay as unix seconds", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  await using conn = await new Events(e).connect(server.url);
  await conn.register();
  const jsm = await addInterest(conn.connection, e.streamName);
  const before = Date.now();
  await conn.emit(e, "later", { delay: 1500, sync: true });
  const after = Date.now();
  const stored = (await jsm.streams.getMessage(e.streamName, { seq: 1 }))!;
  const header = stored.header.get("Walnats-Delay");
  assert.match(header, /^\d{10}(\.\d{1,3})?$/);
  const delayedUntil = Number(header) * 1000;
  assert.ok(delayedUntil >= before + 1499 && delayedUntil <= after + 1501, `${delayedUntil}`);
  await assert.rejects(conn.emit(e, "x", { delay: -1 }), /delay must be a non-negative number/);
});

test("ConnectedEvents.emit writes CloudEvent and plain meta headers", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  await using conn = await new Events(e).connect(server.url);
  await conn.register();
  const jsm = await addInterest(conn.connection, e.streamName);
  const meta = new CloudEvent({
    id: "hi123",
    source: "/sensors/tn-123",
    type: "com.example.alert",
  });
  await conn.emit(e, "x", { meta, sync: true });
  await conn.emit(e, "y", { meta: { "X-Tenant": "acme" }, sync: true });
  const a = (await jsm.streams.getMessage(e.streamName, { seq: 1 }))!;
  assert.equal(
    new TextDecoder().decode((a.header as MsgHdrsImpl).encode()),
    "NATS/1.0\r\nce-id: hi123\r\nce-source: /sensors/tn-123\r\nce-type: com.example.alert\r\n" +
      "ce-specversion: 1.0\r\nNats-Msg-Id: hi123\r\n\r\n",
  );
  const b = (await jsm.streams.getMessage(e.streamName, { seq: 2 }))!;
  assert.equal(b.header.get("X-Tenant"), "acme");
});

test("ConnectedEvents.emit of an invalid message throws ValidationError and sends nothing", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), User);
  await using conn = await new Events(e).connect(server.url);
  await conn.register();
  const jsm = await addInterest(conn.connection, e.streamName);
  await assert.rejects(conn.emit(e, { id: "1", name: 2 } as never), (err: Error) => {
    assert.ok(err instanceof ValidationError);
    assert.match(err.message, new RegExp(`Invalid message of event "${e.name}": id: .*; name: `));
    assert.equal(err.issues.length, 2);
    return true;
  });
  await conn.connection.flush();
  assert.equal((await jsm.streams.info(e.streamName)).state.messages, 0);
});

test("ConnectedEvents.emit refuses unregistered events and a closed connection", async () => {
  await using server = await startNatsServer();
  const known = new Event(uniqueName(), v.string());
  const stranger = new Event(uniqueName(), v.string());
  const conn = await new Events(known).connect(server.url);
  await assert.rejects(conn.emit(stranger, "x"), /is not in this Events registry/);
  await conn.close();
  await assert.rejects(conn.emit(known, "x"), /the connection is closed/);
});

test("Events.connect leaves a given connection open and closes its own", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  const own = await new Events(e).connect(server.url);
  await own.close();
  assert.ok(own.connection.isClosed());
  const shared = own.connection;
  void shared;
  const { connect } = await import("../../src/connection.ts");
  const nc = await connect(server.url);
  {
    await using conn = await new Events(e).connect(nc);
    assert.equal(conn.connection, nc);
  }
  assert.equal(nc.isClosed(), false);
  await nc.close();
});

test("ConnectedEvents.monitor yields live decoded events from all registered events", async () => {
  await using server = await startNatsServer();
  const a = new Event(uniqueName(), v.string());
  const b = new Event(uniqueName(), User);
  await using conn = await new Events(a, b).connect(server.url);
  await conn.register();
  const controller = new AbortController();
  const feed = conn.monitor({ signal: controller.signal });
  await conn.connection.flush();
  await conn.emit(a, "hello");
  await conn.emit(b, { id: 7, name: "x" }, { traceId: "t" });
  conn.connection.publish(a.name, new Uint8Array([0xff]));
  const seen = [];
  for await (const item of feed) {
    seen.push(item);
    if (seen.length === 3) controller.abort();
  }
  assert.equal(seen[0]?.event, a);
  assert.equal(seen[0]?.message, "hello");
  assert.deepEqual(seen[1]?.message, { id: 7, name: "x" });
  assert.equal(seen[1]?.headers["Walnats-Trace"], "t");
  assert.equal(seen[2]?.message, undefined);
  assert.match(String(seen[2]!.error), /Serializer "json" failed/);
});

test("Event works with zod and arktype schemas", async () => {
  await using server = await startNatsServer();
  const viaZod = new Event(uniqueName(), z.object({ n: z.number().int() }));
  const viaArk = new Event(uniqueName(), type({ n: "number.integer" }));
  await using conn = await new Events(viaZod, viaArk).connect(server.url);
  await conn.register();
  const jsmZ = await addInterest(conn.connection, viaZod.streamName);
  await addInterest(conn.connection, viaArk.streamName);
  await conn.emit(viaZod, { n: 1 }, { sync: true });
  await conn.emit(viaArk, { n: 2 }, { sync: true });
  await assert.rejects(conn.emit(viaZod, { n: 1.5 }), ValidationError);
  await assert.rejects(conn.emit(viaArk, { n: 1.5 }), ValidationError);
  await until(async () => (await jsmZ.streams.info(viaArk.streamName)).state.messages === 1);
  assert.equal((await jsmZ.streams.info(viaZod.streamName)).state.messages, 1);
});
