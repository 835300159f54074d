// Duration options: refused at declaration when the runtime's timers or the server
// cannot keep them, and Infinity where it means "no limit".
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import * as v from "valibot";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsServer } from "../testing.ts";
import {
  Actor,
  Actors,
  Clock,
  Event,
  Events,
  type Logger,
  rateLimit,
  requireThat,
  RetryLaterError,
} from "../mod.ts";
import { MAX_SERVER_DURATION, MAX_TIMER } from "../src/_duration.ts";
import { sleep, uniqueName, until } from "./_helpers.ts";

const quiet: Logger = { error() {}, warn() {}, info() {} };

/** Count the runtime's TimeoutOverflowWarnings (a timer too long, set to 1 ms instead). */
function overflowWarnings(): { readonly count: number; stop(): void } {
  let count = 0;
  const listener = (warning: Error) => {
    if (warning.name === "TimeoutOverflowWarning") count++;
  };
  process.on("warning", listener);
  return {
    get count() {
      return count;
    },
    stop: () => process.off("warning", listener),
  };
}
const noop = () => {};
const e = new Event("duration-event", v.string());

test("Actor refuses durations the server or the runtime cannot keep, naming the option", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [
      { ackWait: 1e15 },
      /actor "a": ackWait must be milliseconds from 1 up to 9223372036854 \(about 292 years, the server's int64 nanoseconds\), got 1000000000000000/,
    ],
    [{ ackWait: 0.5 }, /ackWait must be milliseconds from 1/],
    [{ ackWait: Infinity }, /ackWait must be .*, got Infinity/],
    [
      { jobTimeout: 2 ** 31 },
      /jobTimeout must be positive milliseconds up to 2147483647 \(about 24\.8 days, the longest timer the runtime keeps\), or Infinity \(no timeout\), got 2147483648/,
    ],
    [{ jobTimeout: 3e9 }, /jobTimeout must be .*, got 3000000000/],
    [{ jobTimeout: 0 }, /jobTimeout must be positive/],
    [
      { retryDelay: [10, 1e13] },
      /retryDelay items must be milliseconds from 0 up to 9223372036854/,
    ],
    [{ retryDelay: [-1] }, /retryDelay items must be milliseconds from 0/],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => new Actor("a", e, noop, options), (error: Error) => {
      assert.ok(error instanceof RangeError, `${JSON.stringify(options)}: ${error}`);
      assert.match(error.message, message);
      return true;
    });
  }
  assert.equal(new Actor("a", e, noop, { jobTimeout: Infinity }).jobTimeout, Infinity);
  assert.equal(new Actor("a", e, noop, { jobTimeout: MAX_TIMER }).jobTimeout, MAX_TIMER);
});

test("Event limits refuse what the server refuses, naming the limit", () => {
  const cases: [Record<string, number>, RegExp][] = [
    [
      { age: 50 },
      /event "x": age must be milliseconds from 100 up to 9223372036854 .*, or Infinity \(no limit\), got 50/,
    ],
    [{ age: 1e15 }, /age must be .*, got 1000000000000000/],
    [{ duplicateWindow: 99 }, /duplicateWindow must be milliseconds from 100/],
    [{ duplicateWindow: Infinity }, /duplicateWindow must be .*, got Infinity/],
    [
      { age: 60_000, duplicateWindow: 120_000 },
      /duplicateWindow \(120000 ms\) must not be longer than age \(60000 ms\)/,
    ],
  ];
  for (const [limits, message] of cases) {
    assert.throws(() => new Event("x", v.string(), { limits }), (error: Error) => {
      assert.ok(error instanceof RangeError, `${JSON.stringify(limits)}: ${error}`);
      assert.match(error.message, message);
      return true;
    });
  }
});

test("Actors.register and Events.register accept the longest durations the server keeps", async () => {
  await using server = await startNatsServer();
  const longest = new Event(uniqueName(), v.string(), {
    limits: { age: MAX_SERVER_DURATION, duplicateWindow: MAX_SERVER_DURATION },
  });
  const forever = new Event(uniqueName(), v.string(), { limits: { age: Infinity } });
  const fraction = new Event(uniqueName(), v.string(), { limits: { age: 100.0000001 } });
  await using events = await new Events(longest, forever, fraction).connect(server.url);
  await events.register();
  const actor = new Actor("patient", longest, noop, {
    ackWait: MAX_SERVER_DURATION,
    jobTimeout: Infinity,
  });
  await using actors = await new Actors(actor).connect(server.url);
  await actors.register();
  const jsm = await jetstreamManager(events.connection);
  const { config } = await jsm.streams.info(longest.streamName);
  assert.equal(config.max_age, MAX_SERVER_DURATION * 1e6);
  assert.equal(config.duplicate_window, MAX_SERVER_DURATION * 1e6);
  assert.equal((await jsm.streams.info(forever.streamName)).config.max_age, 0);
  // A fraction of a nanosecond would be "invalid JSON" to the server: rounded.
  assert.equal((await jsm.streams.info(fraction.streamName)).config.max_age, 100_000_000);
  const consumer = await jsm.consumers.info(longest.streamName, "patient");
  assert.equal(consumer.config.ack_wait, MAX_SERVER_DURATION * 1e6);
});

test("ConnectedActors.listen with jobTimeout Infinity and an ackWait of years runs a job without timers firing", async () => {
  await using server = await startNatsServer();
  const ev = new Event(uniqueName(), v.string());
  let aborted = false;
  let done = 0;
  const actor = new Actor("long-job", ev, async (_m, job) => {
    await sleep(600);
    aborted = job.signal.aborted;
    done++;
  }, { jobTimeout: Infinity, ackWait: 1e12 });
  await using events = await new Events(ev).connect(server.url);
  await using actors = await new Actors(actor).connect(server.url);
  await actors.register();
  // Count the in-progress acks the listener sends: with the pulse interval clamped to
  // what a timer keeps, none is due during a 600 ms job (ackWait / 4 is years away).
  let pulses = 0;
  const acks = actors.connection.subscribe(`$JS.ACK.${ev.streamName}.>`, {
    callback: (_error, msg) => {
      if (new TextDecoder().decode(msg.data) === "+WPI") pulses++;
    },
  });
  await actors.connection.flush();
  await events.emit(ev, "x", { sync: true });
  const warnings = overflowWarnings();
  await actors.listen({ burst: true, logger: quiet });
  warnings.stop();
  acks.unsubscribe();
  assert.equal(warnings.count, 0, `${warnings.count} TimeoutOverflowWarnings`);
  assert.equal(done, 1);
  assert.equal(aborted, false);
  assert.equal(pulses, 0, `${pulses} pulses in 600 ms`);
});

test("ConnectedActors.listen with shutdownGrace Infinity waits for the running job", async () => {
  await using server = await startNatsServer();
  const ev = new Event(uniqueName(), v.string());
  let started = 0;
  let outcome = "";
  const actor = new Actor("graceful", ev, async (_m, job) => {
    started++;
    await sleep(800);
    outcome = job.signal.aborted ? "aborted" : "finished";
  });
  await using events = await new Events(ev).connect(server.url);
  await using actors = await new Actors(actor).connect(server.url);
  await actors.register();
  await events.emit(ev, "x", { sync: true });
  const controller = new AbortController();
  const listening = actors.listen({
    signal: controller.signal,
    shutdownGrace: Infinity,
    pollDelay: 1000,
    logger: quiet,
  });
  await until(() => started === 1, 5000, "the job to start");
  const warnings = overflowWarnings();
  const stopAt = Date.now();
  controller.abort();
  await listening;
  warnings.stop();
  assert.equal(warnings.count, 0, `${warnings.count} TimeoutOverflowWarnings`);
  const waited = Date.now() - stopAt;
  assert.equal(outcome, "finished");
  assert.ok(waited >= 600, `listen resolved ${waited} ms after the abort`);
});

test("ConnectedActors.listen refuses a shutdownGrace or pollDelay no timer can keep", async () => {
  await using server = await startNatsServer();
  await using actors = await new Actors().connect(server.url);
  for (const shutdownGrace of [3e9, -1, NaN]) {
    await assert.rejects(
      actors.listen({ shutdownGrace }),
      /Invalid listen option: shutdownGrace must be milliseconds from 0 up to 2147483647 \(about 24\.8 days.*\), or Infinity \(wait for the running jobs however long they take\)/,
    );
  }
  for (const pollDelay of [2 ** 31, 150]) {
    await assert.rejects(
      // Bounded, so that a listener that accepts it ends (it would pull nothing).
      actors.listen({ pollDelay, signal: AbortSignal.timeout(1000), logger: quiet }),
      /Invalid listen option: pollDelay must be milliseconds from 200 up to 2147483647/,
    );
  }
});

test("ConnectedActors.listen with the shortest pollDelay handles messages", async () => {
  // The server refuses a pull whose heartbeat (at least 100 ms) exceeds half its expiry:
  // with pollDelay under 200 a listener logged thousands of "400 Bad Request - heartbeat
  // value too large" lines a second and handled nothing.
  await using server = await startNatsServer();
  const ev = new Event(uniqueName(), v.string());
  let handled = 0;
  const lines: string[] = [];
  const logger: Logger = {
    error: (m) => lines.push(m),
    warn: (m) => lines.push(m),
    info: () => {},
  };
  await using events = await new Events(ev).connect(server.url);
  await using actors = await new Actors(
    new Actor("quick-poll", ev, () => {
      handled++;
    }),
  ).connect(server.url);
  await actors.register();
  const controller = new AbortController();
  const listening = actors.listen({ signal: controller.signal, pollDelay: 200, logger });
  await events.emit(ev, "x", { sync: true });
  await until(() => handled === 1, 5000, "the message to be handled");
  controller.abort();
  await listening;
  assert.deepEqual(lines, []);
});

test("ConnectedEvents.request refuses a timeout no timer can keep", async () => {
  await using server = await startNatsServer();
  const ev = new Event(uniqueName(), v.string()).withResponse(v.string());
  await using events = await new Events(ev).connect(server.url);
  await assert.rejects(
    events.request(ev, "x", { timeout: 2 ** 31 }),
    new RegExp(
      `Cannot request event "${ev.name}": timeout must be positive milliseconds up to 2147483647`,
    ),
  );
});

test("rateLimit, requireThat, RetryLaterError and Clock refuse durations nothing can keep", () => {
  assert.throws(() => rateLimit(1, 2 ** 31), /period of rateLimit: must be at most 2147483647 ms/);
  assert.throws(
    () => requireThat(() => true, { pause: 2 ** 31 }),
    /pause of requireThat: must be at most 2147483647 ms/,
  );
  assert.throws(
    () => new RetryLaterError(1e13),
    /RetryLaterError delay: expected milliseconds from 0 up to 9223372036854/,
  );
  assert.throws(
    () => new Clock({ period: 1e13 }),
    /period of Clock .*: must be at most 9223372036854 ms/,
  );
});
