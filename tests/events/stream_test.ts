// register() never drops stored messages: changes that can are refused unless allowed (issue 20).
// These run on whichever server the CI leg picked (WALNATS_NATS_SERVER_VERSION): 2.9, 2.10, current.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import {
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamManager,
  jetstreamManager,
  RetentionPolicy,
} from "@nats-io/jetstream";
import { startNatsServer } from "../../testing.ts";
import { connect } from "../../src/connection.ts";
import { registerStream } from "../../src/events/stream.ts";
import { Actor, Actors, Event, Events, type Limits, StreamConfigError } from "../../mod.ts";
import { addInterest, sleep, uniqueName } from "../_helpers.ts";

async function publish(jsm: JetStreamManager, subject: string, n: number): Promise<void> {
  const js = jsm.jetstream();
  for (let i = 0; i < n; i++) await js.publish(subject, JSON.stringify(`m${i}`));
}

/** The registry of one event declared with `limits`, connected. */
function declared(name: string, limits: Limits = {}): Events {
  return new Events(new Event(name, v.string(), { limits }));
}

function refused(event: string, field: string, from: string, to: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof StreamConfigError, String(e));
    assert.equal(e.event, event);
    assert.deepEqual(e.fields, [field]);
    assert.ok(e.message.includes(`${field} ${from} → ${to}`), e.message);
    assert.ok(e.message.includes(`register({ allowDestructive: ["${field}"] })`), e.message);
    return true;
  };
}

test("Events.register refuses to change an existing stream's retention, on every server", async () => {
  await using server = await startNatsServer();
  const name = uniqueName();
  await using conn = await declared(name).connect(server.url);
  const jsm = await jetstreamManager(conn.connection);
  // Somebody else's stream with limits retention and three messages nobody consumes: under
  // interest retention the server would delete them. 2.15 accepts the change, 2.9 does not.
  await jsm.streams.add({ name, subjects: [name], retention: RetentionPolicy.Limits });
  await publish(jsm, name, 3);
  await assert.rejects(conn.register(), refused(name, "retention", '"limits"', '"interest"'));
  const info = await jsm.streams.info(name);
  assert.equal(info.config.retention, RetentionPolicy.Limits);
  assert.equal(info.state.messages, 3);
  // The same with create off.
  await assert.rejects(
    conn.register({ create: false }),
    refused(name, "retention", '"limits"', '"interest"'),
  );

  // Allowed on purpose: what happens next is the server's call. nats-server 2.9 refuses to change
  // retention at all; 2.10 and later accept it and drop the unwanted messages.
  const allowed = conn.register({ allowDestructive: ["retention"] });
  if (server.version.startsWith("2.9.")) {
    await assert.rejects(allowed, (e: unknown) => {
      assert.ok(e instanceof StreamConfigError, String(e));
      assert.ok(e.cause instanceof JetStreamApiError, String(e.cause));
      return true;
    });
  } else {
    await allowed;
    assert.equal((await jsm.streams.info(name)).config.retention, RetentionPolicy.Interest);
  }
});

test('limits.retention "limits" keeps what is emitted with no actor; the default (interest) drops it', async () => {
  await using server = await startNatsServer();
  const kept = uniqueName("audit");
  const dropped = uniqueName("plain");
  const events = new Events(
    new Event(kept, v.string(), { limits: { retention: "limits", age: 60_000 } }),
    new Event(dropped, v.string()),
  );
  await using conn = await events.connect(server.url);
  await conn.register();
  const jsm = await jetstreamManager(conn.connection);
  for (const name of [kept, dropped]) {
    for (const m of ["a", "b", "c"]) {
      await conn.emit(events.events.find((e) => e.name === name)!, m, { sync: true });
    }
  }
  const audit = await jsm.streams.info(kept);
  assert.equal(audit.config.retention, RetentionPolicy.Limits);
  assert.equal(audit.config.max_age, 60_000 * 1e6);
  assert.equal(audit.state.messages, 3, "kept without an actor");
  const plain = await jsm.streams.info(dropped);
  assert.equal(plain.config.retention, RetentionPolicy.Interest);
  assert.equal(plain.state.messages, 0, "interest: dropped without an actor, as before");
  // Registering the same declaration again finds nothing to change.
  await conn.register({ update: false });
  // An actor registered afterwards still handles what was kept.
  const handled: string[] = [];
  const reader = new Actor("reader", events.events[0]!, (m) => void handled.push(m as string));
  await using actors = await new Actors(reader).connect(server.url);
  await actors.register();
  await actors.listen({ burst: true });
  assert.deepEqual(handled, ["a", "b", "c"]);
});

test("Actors.register creates a missing stream with the event's declared retention", async () => {
  await using server = await startNatsServer();
  const name = uniqueName("audit");
  const audit = new Event(name, v.string(), { limits: { retention: "limits" } });
  await using actors = await new Actors(new Actor("reader", audit, () => {})).connect(server.url);
  await actors.register();
  const jsm = await jetstreamManager(actors.connection);
  assert.equal((await jsm.streams.info(name)).config.retention, RetentionPolicy.Limits);
});

test("Events.register refuses to change a declared retention of an existing stream, both ways", async () => {
  await using server = await startNatsServer();
  const name = uniqueName();
  {
    await using first = await declared(name).connect(server.url);
    await first.register();
  }
  await using conn = await declared(name, { retention: "limits" }).connect(server.url);
  const jsm = await addInterest(conn.connection, name);
  await publish(jsm, name, 2);
  await assert.rejects(conn.register(), refused(name, "retention", '"interest"', '"limits"'));
  await assert.rejects(
    conn.register({ create: false }),
    refused(name, "retention", '"interest"', '"limits"'),
  );
  const info = await jsm.streams.info(name);
  assert.equal(info.config.retention, RetentionPolicy.Interest, "left as it is");
  assert.equal(info.state.messages, 2);

  // The other way: a stream declared with limits retention, then without.
  const other = uniqueName();
  {
    await using first = await declared(other, { retention: "limits" }).connect(server.url);
    await first.register();
  }
  await using plain = await declared(other).connect(server.url);
  await assert.rejects(plain.register(), refused(other, "retention", '"limits"', '"interest"'));
  assert.equal((await jsm.streams.info(other)).config.retention, RetentionPolicy.Limits);
});

test("Events.register refuses limits lowered below what the stream holds, and allows them when asked", async () => {
  await using server = await startNatsServer();
  const name = uniqueName();
  {
    await using conn = await declared(name, { messages: 10, bytes: 1 << 20 }).connect(server.url);
    await conn.register();
  }
  await using setup = await declared(name).connect(server.url);
  const jsm = await addInterest(setup.connection, name);
  await publish(jsm, name, 5);
  const held = (await jsm.streams.info(name)).state.bytes;

  // Lowered, but not below what it holds: fine.
  {
    await using conn = await declared(name, { messages: 5, bytes: held }).connect(server.url);
    await conn.register();
  }
  {
    await using conn = await declared(name, { messages: 3, bytes: held }).connect(server.url);
    await assert.rejects(conn.register(), refused(name, "limits.messages", "5", "3"));
  }
  {
    await using conn = await declared(name, { messages: 5, bytes: held - 1 }).connect(server.url);
    await assert.rejects(
      conn.register(),
      refused(name, "limits.bytes", String(held), String(held - 1)),
    );
  }
  assert.equal((await jsm.streams.info(name)).state.messages, 5);
  {
    await using conn = await declared(name, { messages: 3, bytes: held }).connect(server.url);
    await conn.register({ allowDestructive: ["limits.messages"] });
  }
  assert.equal((await jsm.streams.info(name)).state.messages, 3);
});

test("Events.register refuses a max age shorter than the oldest message's", async () => {
  await using server = await startNatsServer();
  const name = uniqueName();
  await using setup = await declared(name).connect(server.url);
  await setup.register();
  const jsm = await addInterest(setup.connection, name);
  await publish(jsm, name, 1);
  await sleep(300);
  {
    // The duplicate window may not exceed the age limit: the server says so.
    await using conn = await declared(name, { age: 60_000, duplicateWindow: 100 }).connect(
      server.url,
    );
    await conn.register(); // the message is younger than that
  }
  await using conn = await declared(name, { age: 200, duplicateWindow: 100 }).connect(server.url);
  await assert.rejects(conn.register(), refused(name, "limits.age", '"60000 ms"', '"200 ms"'));
  assert.equal((await jsm.streams.info(name)).state.messages, 1);
});

test("Events.register refuses a discard change and a lower message size even on an empty stream", async () => {
  await using server = await startNatsServer();
  const name = uniqueName();
  {
    await using conn = await declared(name, { messageSize: 1024 }).connect(server.url);
    await conn.register();
    const jsm = await jetstreamManager(conn.connection);
    const { config } = await jsm.streams.info(name);
    await jsm.streams.update(name, { ...config, discard: DiscardPolicy.New });
  }
  await using conn = await declared(name, { messageSize: 1024 }).connect(server.url);
  await assert.rejects(conn.register(), refused(name, "discard", '"new"', '"old"'));
  await conn.register({ allowDestructive: ["discard"] });
  await using smaller = await declared(name, { messageSize: 512 }).connect(server.url);
  await assert.rejects(smaller.register(), refused(name, "limits.messageSize", "1024", "512"));
  await smaller.register({ allowDestructive: true });
  const jsm = await jetstreamManager(conn.connection);
  assert.equal((await jsm.streams.info(name)).config.max_msg_size, 512);
});

test("Events refuses two events that map to one stream, naming both", () => {
  const base = uniqueName();
  const dotted = new Event(`${base}.created`, v.string());
  const dashed = new Event(`${base}-created`, v.string());
  assert.throws(
    () => new Events(dotted, dashed),
    (e: unknown) =>
      e instanceof TypeError && e.message.includes(`"${dotted.name}"`) &&
      e.message.includes(`"${dashed.name}"`) && e.message.includes(`stream "${dashed.name}"`),
  );
  assert.throws(
    () => new Actors(new Actor("a", dotted, () => {}), new Actor("b", dashed, () => {})),
    (e: unknown) =>
      e instanceof TypeError && e.message.includes(`"${dotted.name}"`) &&
      e.message.includes(`"${dashed.name}"`) && /Actors/.test(e.message),
  );
  // One event twice (or its response copy) is fine.
  new Events(dotted, dotted, dotted.withResponse(v.string()));
});

test("Events.register refuses an event whose stream carries another event's subject", async () => {
  await using server = await startNatsServer();
  const base = uniqueName();
  const dotted = new Event(`${base}.created`, v.string());
  const dashed = new Event(`${base}-created`, v.string());
  {
    await using first = await new Events(dotted).connect(server.url);
    await first.register();
  }
  await using second = await new Events(dashed).connect(server.url);
  await assert.rejects(second.register(), (e: unknown) => {
    assert.ok(e instanceof StreamConfigError, String(e));
    assert.equal(e.event, dashed.name);
    assert.deepEqual(e.fields, ["subjects"]);
    assert.ok(e.message.includes(`stream "${dashed.streamName}" carries subject "${dotted.name}"`));
    assert.ok(e.message.includes(`event "${dashed.name}"`), e.message);
    return true;
  });
  // The first event's stream still takes its emits.
  const jsm = await jetstreamManager(second.connection);
  assert.deepEqual((await jsm.streams.info(dashed.streamName)).config.subjects, [dotted.name]);
});

test("registerStream without an answer from JetStream says so, instead of blaming the config", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  const nc = await connect(server.url);
  try {
    const jsm = await jetstreamManager(nc, { timeout: 300 });
    await server.pause();
    try {
      await assert.rejects(registerStream(jsm, e as Event<unknown, unknown>), (error: Error) => {
        assert.ok(!(error instanceof StreamConfigError), String(error));
        assert.match(error.message, new RegExp(`Cannot register event "${e.name}"`));
        assert.match(error.message, /JetStream did not answer .*TimeoutError/);
        assert.match(error.message, /register again/);
        assert.equal((error.cause as Error).name, "TimeoutError");
        return true;
      });
    } finally {
      await server.resume();
    }
    // Once the server answers, the same call creates the stream.
    await registerStream(jsm, e as Event<unknown, unknown>);
    assert.equal((await jsm.streams.info(e.streamName)).config.name, e.streamName);
  } finally {
    await nc.close();
  }
});
