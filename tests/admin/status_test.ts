// The admin's status through real nats-servers: streams, consumers, dead letters and the
// listeners' heartbeats, discovered from the server or from declarations.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsCluster, startNatsServer } from "../../testing.ts";
import process from "node:process";
import {
  Actor,
  Actors,
  Event,
  Events,
  type Heartbeat,
  HEARTBEAT_SUBJECTS,
  type Logger,
  UnrecoverableError,
} from "../../mod.ts";
import { type ActorStatus, connectAdmin, rates } from "../../admin.ts";
import { connect } from "../../src/connection.ts";
import { uniqueName, until } from "../_helpers.ts";

const quiet: Logger = { error() {}, warn() {}, info() {} };

test("Admin.status shows each event's stream and each actor's backlog and dead letters", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("order"), v.object({ n: v.number() }));
  const other = new Event(`${uniqueName("user")}.created`, v.string());
  const ship = new Actor("ship", e, (m) => {
    if (m.n < 0) throw new UnrecoverableError("negative");
  });
  const bill = new Actor("bill", e, () => {});
  await using events = await new Events(e, other).connect(server.url);
  await events.register();
  await using actors = await new Actors(ship, bill).connect(server.url);
  await actors.register();
  // Streams that are not walnats' (two subjects; one not named after its subject) stay out.
  const jsm = await jetstreamManager(events.connection);
  await jsm.streams.add({ name: "foreign", subjects: ["foreign.a", "foreign.b"] });
  await jsm.streams.add({ name: "audit", subjects: ["audit.log"] }); // not named after it
  for (const n of [1, 2, -1]) await events.emit(e, { n }, { sync: true });

  await using admin = await connectAdmin(server.url);
  let status = await admin.status({ wait: 0 });
  assert.match(status.server.version, /^\d+\.\d+\.\d+/);
  assert.ok(status.server.jetstream.streams >= 3);
  assert.deepEqual(status.events.map((x) => x.name), [e.name, other.name].sort());
  const order = status.events.find((x) => x.name === e.name)!;
  assert.equal(order.stream, e.streamName);
  assert.equal(order.messages, 3);
  assert.equal(order.firstSeq, 1);
  assert.equal(order.lastSeq, 3);
  assert.equal(order.consumers, 2);
  assert.ok(order.lastTime !== null && Date.parse(order.lastTime) <= Date.now());
  const created = status.events.find((x) => x.name === other.name)!;
  assert.equal(created.stream, other.streamName);
  assert.equal(created.messages, 0);
  assert.equal(created.lastTime, null);
  assert.deepEqual(
    status.actors.map((a) => [a.event, a.name, a.pending, a.inFlight, a.deadLetters]),
    [[e.name, "bill", 3, 0, 0], [e.name, "ship", 3, 0, 0]],
  );
  assert.equal(status.healthy, true, status.problems.join("\n"));

  // Ship handles all three: two acked, one dead-lettered; bill has not run.
  await new Actors(ship).connect(server.url).then(async (conn) => {
    await conn.listen({ burst: true, logger: quiet, heartbeat: false });
    await conn.close();
  });
  status = await admin.status({ wait: 0 });
  const [billStatus, shipStatus] = status.actors as [ActorStatus, ActorStatus];
  assert.equal(shipStatus.pending, 0);
  assert.equal(shipStatus.inFlight, 0);
  assert.equal(shipStatus.delivered, 3);
  assert.equal(shipStatus.deadLetters, 1);
  assert.equal(shipStatus.deadLetterStream, ship.deadLetters!.streamName);
  assert.ok(shipStatus.lastDelivery !== null);
  assert.equal(billStatus.pending, 3);
  assert.equal(billStatus.deadLetters, 0);
  assert.equal(status.deadLetters, 1);
  // Dead-letter streams are not events.
  assert.ok(!status.events.some((x) => x.name.startsWith("dead-letter.")));
});

test("Admin.status from declarations names what is missing", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("order"), v.number());
  const registered = new Actor("registered", e, () => {});
  const missing = new Actor("not-registered", e, () => {});
  await using events = await new Events(e).connect(server.url);
  await events.register();
  await using actors = await new Actors(registered).connect(server.url);
  await actors.register();
  const ghost = new Event(uniqueName("ghost"), v.number());

  await using admin = await connectAdmin(server.url, {
    events: new Events(e, ghost),
    actors: [registered, missing],
  });
  const status = await admin.status({ wait: 0 });
  assert.deepEqual(
    status.events.map((x) => [x.name, x.exists]),
    [[e.name, true], [ghost.name, false]].sort(),
  );
  assert.deepEqual(
    status.actors.map((a) => [a.name, a.exists, a.healthy]),
    [["not-registered", false, false], ["registered", true, true]],
  );
  assert.equal(status.healthy, false);
  assert.ok(
    status.problems.some((p) => p.includes('"not-registered"') && p.includes("does not exist")),
    status.problems.join("\n"),
  );
  assert.ok(status.problems.some((p) => p.includes(ghost.streamName)), status.problems.join("\n"));
  // A missing stream alone is a problem too, even when every actor is fine.
  await using streamsOnly = await connectAdmin(server.url, {
    events: [e, ghost],
    actors: [registered],
  });
  const missingStream = await streamsOnly.status({ wait: 0 });
  assert.deepEqual(missingStream.actors.map((a) => a.healthy), [true]);
  assert.equal(missingStream.healthy, false);
});

test("Admin.status counts running listeners from their heartbeats, per actor", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("order"), v.number());
  const a = new Actor("worker", e, () => {});
  const b = new Actor("auditor", e, () => {});
  await using events = await new Events(e).connect(server.url);
  await events.register();
  const stop = new AbortController();
  const one = await new Actors(a, b).connect(server.url);
  const two = await new Actors(a).connect(server.url);
  await one.register();
  const listening = [
    one.listen({ signal: stop.signal, logger: quiet, heartbeat: { interval: 200 } }),
    two.listen({ signal: stop.signal, logger: quiet, heartbeat: { interval: 200 } }),
  ];
  try {
    await using admin = await connectAdmin(server.url);
    const status = await admin.status({ wait: 300 });
    const worker = status.actors.find((x) => x.name === "worker")!;
    const auditor = status.actors.find((x) => x.name === "auditor")!;
    assert.equal(worker.instances.length, 2);
    assert.equal(auditor.instances.length, 1);
    assert.ok(worker.instances.every((i) => i.healthy && i.pid > 0 && i.host !== ""));
    assert.match(worker.instances[0]!.runtime, /^(deno|bun|node) /);
    assert.equal(status.instances.length, 2);
    assert.equal(status.healthy, true, status.problems.join("\n"));
  } finally {
    stop.abort();
    await Promise.all(listening);
    await one.close();
    await two.close();
  }
});

test("a listener beats on $WALNATS.heartbeat.<id> every interval with its health", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("order"), v.number());
  const a = new Actor("beating", e, () => {});
  await using events = await new Events(e).connect(server.url);
  await events.register();
  await using conn = await new Actors(a).connect(server.url);
  await conn.register();
  const beats: { subject: string; beat: Heartbeat }[] = [];
  const sub = events.connection.subscribe(`${HEARTBEAT_SUBJECTS.beat}.>`, {
    callback: (_, msg) => void beats.push({ subject: msg.subject, beat: msg.json<Heartbeat>() }),
  });
  await events.connection.flush();
  const stop = new AbortController();
  const started = Date.now();
  const listening = conn.listen({
    signal: stop.signal,
    logger: quiet,
    heartbeat: { interval: 100 },
  });
  try {
    await until(() => beats.length >= 4, 5000, "four beats");
  } finally {
    stop.abort();
    await listening;
    sub.unsubscribe();
  }
  assert.ok(Date.now() - started >= 250, "one at once, then one per interval");
  const [first] = beats;
  assert.equal(first!.subject, `${HEARTBEAT_SUBJECTS.beat}.${first!.beat.id}`);
  assert.equal(new Set(beats.map((b) => b.beat.id)).size, 1, "one listener, one id");
  assert.equal(first!.beat.v, 1);
  assert.equal(first!.beat.pid, process.pid);
  assert.equal(first!.beat.interval, 100);
  assert.deepEqual(first!.beat.actors, [{ name: "beating", event: e.name }]);
  assert.equal(first!.beat.health.listening, true);
  assert.ok("beating" in first!.beat.health.actors);
});

test("listen({ heartbeat: false }) announces nothing", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("order"), v.number());
  const a = new Actor("silent", e, () => {});
  await using events = await new Events(e).connect(server.url);
  await events.register();
  await using conn = await new Actors(a).connect(server.url);
  await conn.register();
  const stop = new AbortController();
  const listening = conn.listen({ signal: stop.signal, logger: quiet, heartbeat: false });
  try {
    await using admin = await connectAdmin(server.url);
    const status = await admin.status({ wait: 300 });
    assert.equal(status.instances.length, 0);
    assert.deepEqual(status.actors[0]?.instances, []);
  } finally {
    stop.abort();
    await listening;
  }
  await assert.rejects(
    conn.listen({ heartbeat: { interval: -1 } }),
    /heartbeat\.interval must be a positive number/,
  );
});

test("Admin.watch turns a listener that went silent unhealthy, and gives rates", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("order"), v.number());
  const a = new Actor("worker", e, () => {});
  await using events = await new Events(e).connect(server.url);
  await events.register();
  const nc = await connect(server.url);
  const conn = await new Actors(a).connect(nc);
  await conn.register();
  const stop = new AbortController();
  const listening = conn.listen({
    signal: stop.signal,
    logger: quiet,
    heartbeat: { interval: 100 },
  });
  await using admin = await connectAdmin(server.url);
  const watching = new AbortController();
  const seen: boolean[] = [];
  let first: Awaited<ReturnType<typeof admin.status>> | undefined;
  let last: typeof first;
  let emitted = false;
  for await (const status of admin.watch({ interval: 150, signal: watching.signal })) {
    first ??= status;
    last = status;
    const instance = status.actors[0]?.instances[0];
    if (instance) seen.push(instance.healthy);
    if (!emitted && instance?.healthy) {
      emitted = true;
      for (let i = 0; i < 10; i++) await events.emit(e, i, { sync: true });
      // The listener stops: its beats stop, and nothing says goodbye.
      stop.abort();
      await listening;
    }
    if (emitted && instance && !instance.healthy) watching.abort();
    if (Date.now() - Date.parse(first.time) > 5000) watching.abort();
  }
  await nc.close();
  assert.deepEqual([seen[0], seen.at(-1)], [true, false], JSON.stringify(seen));
  const r = rates(first!, last!);
  assert.ok(r.events[e.name]!.emitted > 0, JSON.stringify(r));
  assert.ok(r.seconds > 0);
});

test("Admin.status on a 3-node cluster shows each stream's leader and replicas", async () => {
  await using cluster = await startNatsCluster(3);
  const e = new Event(uniqueName("order"), v.number(), { limits: { replicas: 3 } });
  const a = new Actor("worker", e, () => {});
  await using events = await new Events(e).connect([...cluster.urls]);
  await until(
    async () => {
      try {
        await events.register();
        return true;
      } catch {
        return false;
      }
    },
    30_000,
    "the cluster's JetStream",
  );
  await using actors = await new Actors(a).connect([...cluster.urls]);
  await actors.register();
  await events.emit(e, 1, { sync: true });
  await using admin = await connectAdmin([...cluster.urls]);
  let status = await admin.status({ wait: 0 });
  await until(
    async () => {
      status = await admin.status({ wait: 0 });
      const c = status.events[0]?.cluster;
      return c !== undefined && c.leader !== "" && c.replicas.length === 2 &&
        c.replicas.every((r) => r.current);
    },
    20_000,
    "a leader and two current replicas",
  );
  const order = status.events[0]!;
  assert.equal(order.replicas, 3);
  assert.ok(order.cluster!.name?.startsWith("walnats-"));
  assert.ok(!order.cluster!.replicas.some((r) => r.name === order.cluster!.leader));
  assert.ok(order.cluster!.replicas.every((r) => r.lag === 0 && !r.offline));
  assert.ok(status.server.cluster?.startsWith("walnats-"));
  assert.equal(status.actors[0]?.pending, 1);

  // A listener on the first node is seen by an admin on the third (heartbeats cross routes).
  await using far = await connectAdmin(cluster.urls[2]!);
  const listener = await new Actors(a).connect(cluster.urls[0]!);
  const stop = new AbortController();
  const listening = listener.listen({ signal: stop.signal, logger: quiet });
  try {
    await until(
      async () => (await far.status({ wait: 300 })).actors[0]?.instances.length === 1,
      10_000,
      "the listener on another node",
    );
  } finally {
    stop.abort();
    await listening;
    await listener.close();
  }
});
