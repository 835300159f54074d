import { test } from "node:test";
import assert from "node:assert/strict";
import { startNatsServer } from "../testing.ts";
import {
  Actor,
  Actors,
  Clock,
  type ConnectedEvents,
  dateTime,
  type EmitResult,
  Event,
  Events,
  filterTime,
  type Logger,
  minutePassed,
  StreamConfigError,
} from "../mod.ts";
import { addInterest, sleep, uniqueName } from "./_helpers.ts";

const quiet: Logger = { error() {}, warn() {}, info() {} };

/** The same connection, recording what each emit reported. */
function recording(conn: ConnectedEvents, results: (EmitResult | undefined)[]): ConnectedEvents {
  const spy = Object.create(conn) as ConnectedEvents;
  Object.defineProperty(spy, "emit", {
    value: async (...args: Parameters<ConnectedEvents["emit"]>) => {
      const result = await conn.emit(...args);
      results.push(result);
      return result;
    },
  });
  return spy;
}

test("Clock defaults to minute-passed every 60000 ms", () => {
  const clock = new Clock();
  assert.equal(clock.event, minutePassed);
  assert.equal(minutePassed.name, "minute-passed");
  assert.equal(clock.period, 60_000);
  assert.ok(Object.isFrozen(clock));
});

test("Clock rejects a period that is not a positive integer of milliseconds", () => {
  for (const period of [0, -1000, 1.5, Number.NaN, Infinity, "60000" as unknown as number]) {
    assert.throws(
      () => new Clock({ period }),
      (error: unknown) =>
        error instanceof RangeError &&
        /Invalid period of Clock for event "minute-passed": must be a positive integer/.test(
          error.message,
        ),
      `period ${String(period)}`,
    );
  }
  assert.throws(() => new Clock({ event: {} as Event<Date> }), TypeError);
});

test("Clock rejects a period longer than the duplicate window its event declares", () => {
  const e = new Event("hour-passed", dateTime(), { limits: { duplicateWindow: 60_000 } });
  assert.throws(
    () => new Clock({ event: e, period: 3_600_000 }),
    /event "hour-passed".*duplicate window \(limits\.duplicateWindow, 60000 ms\) is shorter than the period \(3600000 ms\)/,
  );
});

test("Clock on two processes emits each tick once, at period boundaries", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("tick"), dateTime(), { limits: { duplicateWindow: 10_000 } });
  // Two publishers with their own connections, as two processes would be.
  await using conn1 = await new Events(e).connect(server.url);
  await using conn2 = await new Events(e).connect(server.url);
  await conn1.register();
  const jsm = await addInterest(conn1.connection, e.streamName);
  const results1: (EmitResult | undefined)[] = [];
  const results2: (EmitResult | undefined)[] = [];
  const clock = new Clock({ event: e, period: 1000 });
  const stop = new AbortController();
  const started = Date.now();
  const runs = Promise.all([
    clock.run(recording(conn1, results1), { signal: stop.signal, logger: quiet }),
    clock.run(recording(conn2, results2), { signal: stop.signal, logger: quiet }),
  ]);
  await sleep(3500);
  stop.abort();
  await runs;
  const stopped = Date.now();

  const { state } = await jsm.streams.info(e.streamName);
  assert.ok(state.messages >= 2, `at least two ticks stored, got ${state.messages}`);
  // Every tick was emitted by both clocks and stored once.
  assert.equal(results1.length, state.messages);
  assert.equal(results2.length, state.messages);
  const duplicates = [...results1, ...results2].filter((r) => r?.duplicate).length;
  assert.equal(duplicates, state.messages);

  const ticks: number[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(e.streamName, { seq });
    assert.ok(m);
    const date = await e.serializer.decode(m.data);
    assert.equal(m.header.get("Nats-Msg-Id"), date.toISOString());
    ticks.push(date.getTime());
  }
  for (const tick of ticks) {
    assert.equal(tick % 1000, 0, "ticks fall on multiples of the period");
    assert.ok(tick > started && tick <= stopped, "only ticks that passed while running");
  }
  for (let i = 1; i < ticks.length; i++) assert.equal(ticks[i]! - ticks[i - 1]!, 1000);
});

test("Clock.run with burst emits the current tick once and returns", async () => {
  await using server = await startNatsServer();
  await using conn = await new Events(minutePassed).connect(server.url);
  await conn.register();
  const jsm = await addInterest(conn.connection, minutePassed.streamName);
  const before = Math.floor(Date.now() / 60_000) * 60_000;
  const clock = new Clock();
  await clock.run(conn, { burst: true });
  await clock.run(conn, { burst: true });
  const after = Math.floor(Date.now() / 60_000) * 60_000;
  const { state } = await jsm.streams.info(minutePassed.streamName);
  // Both bursts emitted the same tick unless a minute began in between.
  assert.equal(state.messages, before === after ? 1 : 2);
  const m = await jsm.streams.getMessage(minutePassed.streamName, { seq: state.first_seq });
  assert.ok(m);
  assert.equal(m.string(), new Date(before).toISOString().replace("Z", "+00:00"));
});

test("Clock.run refuses a stream whose duplicate window is shorter than the period", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("tick"), dateTime()); // the server's default window: 2 minutes
  await using conn = await new Events(e).connect(server.url);
  await conn.register();
  await assert.rejects(
    new Clock({ event: e, period: 180_000 }).run(conn, { burst: true }),
    (error: unknown) => {
      assert.ok(error instanceof StreamConfigError);
      assert.equal(error.event, e.name);
      assert.deepEqual(error.fields, ["limits.duplicateWindow"]);
      assert.match(
        error.message,
        new RegExp(
          `event "${e.name}": the stream's duplicate window \\(120000 ms\\) is shorter than ` +
            `the clock's period \\(180000 ms\\)`,
        ),
      );
      assert.match(error.message, /limits: \{ duplicateWindow: 180000 \}/);
      return true;
    },
  );
});

test("Clock.run says to register the event when its stream does not exist", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("tick"), dateTime());
  await using conn = await new Events(e).connect(server.url);
  await assert.rejects(
    new Clock({ event: e }).run(conn, { burst: true }),
    new RegExp(`event "${e.name}": its stream "${e.name}" does not exist; register the event`),
  );
});

test("Clock.run resolves when the signal aborts, without waiting for the next tick", async () => {
  await using server = await startNatsServer();
  await using conn = await new Events(minutePassed).connect(server.url);
  await conn.register();
  await new Clock().run(conn, { signal: AbortSignal.abort() }); // returns at once
  const stop = new AbortController();
  const started = Date.now();
  setTimeout(() => stop.abort(), 200);
  await new Clock().run(conn, { signal: stop.signal });
  assert.ok(Date.now() - started < 5000);
});

test("Clock ticks reach an actor filtered with filterTime", async () => {
  await using server = await startNatsServer();
  const seen: Date[] = [];
  const skipped: Date[] = [];
  const lastYear = new Date().getUTCFullYear() - 1;
  const actor = new Actor(
    "last-year-only",
    minutePassed,
    filterTime({ year: lastYear })((date) => void skipped.push(date)),
  );
  const matching = new Actor(
    "on-any-minute",
    minutePassed,
    filterTime({ minute: { from: 0, to: 59 } })((date) => void seen.push(date)),
  );
  await using events = await new Events(minutePassed).connect(server.url);
  await events.register();
  await using actors = await new Actors(actor, matching).connect(server.url);
  await actors.register();
  await new Clock().run(events, { burst: true });
  await actors.listen({ burst: true, logger: quiet });
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.getTime() % 60_000, 0);
  assert.ok(seen[0] instanceof Date);
  assert.deepEqual(skipped, []);
});
