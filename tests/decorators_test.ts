import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import {
  Actor,
  Event,
  filterTime,
  type Job,
  type Logger,
  minutePassed,
  rateLimit,
  requireThat,
  suppress,
} from "../mod.ts";
import { sleep } from "./_helpers.ts";

function job(signal: AbortSignal = new AbortController().signal): Job {
  return {
    signal,
    attempt: 1,
    traceId: "trace-1",
    metadata: { streamSeq: 1, consumerSeq: 1, timestamp: 0, delivered: 1, pending: 0 },
    progress() {},
  };
}

/** Calls the handler made by `decorate` and reports whether the inner handler ran. */
async function runs(
  decorate: (handler: (date: Date) => string) => (date: Date, job: Job) => Promise<unknown>,
  iso: string,
): Promise<boolean> {
  let called = false;
  const result = await decorate((date) => {
    called = true;
    return date.toISOString();
  })(new Date(iso), job());
  assert.equal(result, called ? new Date(iso).toISOString() : undefined);
  return called;
}

// A Monday, 23:30 in UTC: Tuesday 08:30 in Tokyo, Monday 18:30 in New York,
// Tuesday 05:00 in Kolkata.
const monday = "2024-01-15T23:30:00.000Z";

// ---------------------------------------------------------------------------
// filterTime

test("filterTime runs the handler when every given field matches, in UTC by default", async () => {
  assert.equal(await runs(filterTime({ hour: 23, minute: 30 }), monday), true);
  assert.equal(
    await runs(filterTime({ year: 2024, month: 1, day: 15, weekday: 1 }), monday),
    true,
  );
  assert.equal(await runs(filterTime({}), monday), true);
});

test("filterTime skips the handler and resolves undefined when a field differs", async () => {
  assert.equal(await runs(filterTime({ hour: 23, minute: 31 }), monday), false);
  assert.equal(await runs(filterTime({ year: 2023 }), monday), false);
  assert.equal(await runs(filterTime({ month: 2 }), monday), false);
  assert.equal(await runs(filterTime({ weekday: 2 }), monday), false);
});

test("filterTime reads the fields in the given IANA time zone", async () => {
  const tokyo = { timezone: "Asia/Tokyo" };
  assert.equal(await runs(filterTime({ ...tokyo, day: 16, weekday: 2, hour: 8 }), monday), true);
  assert.equal(await runs(filterTime({ ...tokyo, day: 15 }), monday), false);
  const newYork = { timezone: "America/New_York" };
  assert.equal(await runs(filterTime({ ...newYork, day: 15, hour: 18, minute: 30 }), monday), true);
  const kolkata = { timezone: "Asia/Kolkata" };
  assert.equal(await runs(filterTime({ ...kolkata, hour: 5, minute: 0 }), monday), true);
  // New Year in Tokyo, still the old year in UTC.
  const newYear = "2024-12-31T15:00:00.000Z";
  assert.equal(await runs(filterTime({ ...tokyo, year: 2025, month: 1, day: 1 }), newYear), true);
  assert.equal(await runs(filterTime({ year: 2025 }), newYear), false);
  // Midnight is hour 0, not 24.
  assert.equal(await runs(filterTime({ ...tokyo, hour: 0 }), "2024-01-15T15:00:00Z"), true);
});

test("filterTime follows daylight saving time in the time zone", async () => {
  const berlin = { timezone: "Europe/Berlin", hour: 9, minute: 0 };
  assert.equal(await runs(filterTime(berlin), "2024-01-15T08:00:00Z"), true); // CET, UTC+1
  assert.equal(await runs(filterTime(berlin), "2024-07-15T07:00:00Z"), true); // CEST, UTC+2
  assert.equal(await runs(filterTime(berlin), "2024-07-15T08:00:00Z"), false);
});

test("filterTime accepts lists, ranges and lists of both", async () => {
  assert.equal(await runs(filterTime({ minute: [0, 15, 30, 45] }), monday), true);
  assert.equal(await runs(filterTime({ minute: [0, 15, 45] }), monday), false);
  assert.equal(await runs(filterTime({ hour: { from: 9, to: 17 } }), monday), false);
  assert.equal(await runs(filterTime({ hour: { from: 20, to: 23 } }), monday), true);
  assert.equal(await runs(filterTime({ hour: { from: 23, to: 23 } }), monday), true);
  assert.equal(await runs(filterTime({ hour: [1, { from: 22, to: 23 }] }), monday), true);
  assert.equal(await runs(filterTime({ hour: [1, { from: 2, to: 4 }] }), monday), false);
  assert.equal(await runs(filterTime({ year: { from: 2020, to: 2030 } }), monday), true);
});

test("filterTime wraps a range whose from is after its to", async () => {
  const night = filterTime({ hour: { from: 22, to: 5 } });
  assert.equal(await runs(night, "2024-01-15T23:00:00Z"), true);
  assert.equal(await runs(night, "2024-01-15T02:00:00Z"), true);
  assert.equal(await runs(night, "2024-01-15T05:59:00Z"), true);
  assert.equal(await runs(night, "2024-01-15T06:00:00Z"), false);
  assert.equal(await runs(night, "2024-01-15T21:59:00Z"), false);
  const weekend = filterTime({ weekday: { from: 6, to: 0 } });
  assert.equal(await runs(weekend, "2024-01-13T12:00:00Z"), true); // Saturday
  assert.equal(await runs(weekend, "2024-01-14T12:00:00Z"), true); // Sunday
  assert.equal(await runs(weekend, monday), false);
});

test("filterTime takes 7 as Sunday, as cron does", async () => {
  const sunday = "2024-01-14T12:00:00Z";
  assert.equal(await runs(filterTime({ weekday: 7 }), sunday), true);
  assert.equal(await runs(filterTime({ weekday: 0 }), sunday), true);
  assert.equal(await runs(filterTime({ weekday: { from: 5, to: 7 } }), sunday), true);
  assert.equal(await runs(filterTime({ weekday: { from: 1, to: 5 } }), sunday), false);
  assert.equal(await runs(filterTime({ weekday: 7 }), monday), false);
});

test("filterTime reads the date that options.date picks from the message", async () => {
  const calls: number[] = [];
  const handler = filterTime({
    hour: 8,
    timezone: "Asia/Tokyo",
    date: (order: { id: number; placedAt: Date }) => order.placedAt,
  })((order, j) => {
    calls.push(order.id);
    assert.equal(j.traceId, "trace-1");
    return order.id * 2;
  });
  assert.equal(await handler({ id: 1, placedAt: new Date(monday) }, job()), 2);
  assert.equal(
    await handler({ id: 2, placedAt: new Date("2024-01-15T00:00:00Z") }, job()),
    undefined,
  );
  assert.deepEqual(calls, [1]);
});

test("filterTime fails a message that is not a Date, naming options.date", async () => {
  const handler = filterTime({ hour: 1 })((d: Date) => d);
  await assert.rejects(
    handler("2024-01-15" as unknown as Date, job()),
    /filterTime expected the message to be a valid Date, got "2024-01-15"; pass options\.date/,
  );
  await assert.rejects(handler(new Date(Number.NaN), job()), TypeError);
});

test("filterTime names the field and the value it rejects", () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ hour: 24 }, /Invalid hour of filterTime: the value must be an integer from 0 to 23, got 24/],
    [{ minute: -1 }, /Invalid minute of filterTime: .* from 0 to 59, got -1/],
    [{ month: 0 }, /Invalid month of filterTime: .* from 1 to 12, got 0/],
    [{ day: 32 }, /Invalid day of filterTime: .* from 1 to 31, got 32/],
    [{ weekday: 8 }, /Invalid weekday of filterTime: .* from 0 to 7, got 8/],
    [{ hour: 1.5 }, /Invalid hour of filterTime: .* got 1\.5/],
    [{ hour: "9" }, /Invalid hour of filterTime: the value must be an integer .* got "9"/],
    [{ hour: { from: 9 } }, /Invalid hour of filterTime: range\.to must be .* got undefined/],
    [{ hour: { from: 9, to: 30 } }, /Invalid hour of filterTime: range\.to .* got 30/],
    [{ hour: [] }, /Invalid hour of filterTime: the list is empty/],
    [
      { year: { from: 2030, to: 2020 } },
      /Invalid year of filterTime: range\.from \(2030\) must not be after range\.to \(2020\)/,
    ],
    [{ hours: 9 }, /Invalid option of filterTime: unknown option "hours"/],
    [
      { timezone: "Mars/Olympus_Mons" },
      /Invalid timezone of filterTime: "Mars\/Olympus_Mons" is not an IANA time zone/,
    ],
    [{ date: "placedAt" }, /Invalid date of filterTime: expected a function/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => filterTime(options as never), message, JSON.stringify(options));
  }
  assert.throws(() => filterTime({ hour: 24 }), RangeError);
  assert.throws(() => filterTime({ hour: "9" as never }), TypeError);
  assert.throws(() => filterTime({})("nope" as never), /Invalid handler for filterTime/);
});

// ---------------------------------------------------------------------------
// rateLimit

test("rateLimit starts at most maxJobs handlers per sliding period", async () => {
  const period = 300;
  const started = Date.now();
  const starts: number[] = [];
  const handler = rateLimit(3, period)((n: number) => {
    starts.push(Date.now() - started);
    return n;
  });
  const results = await Promise.all([0, 1, 2, 3, 4, 5, 6].map((n) => handler(n, job())));
  assert.deepEqual(results, [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(starts.length, 7);
  // Timers may fire a millisecond early; the machine may be busy (late is fine).
  const early = 5;
  for (const t of starts.slice(0, 3)) assert.ok(t < 150, `first three at once, got ${starts}`);
  for (const t of starts.slice(3, 6)) assert.ok(t >= period - early, `next three wait, ${starts}`);
  assert.ok(starts[6]! >= 2 * period - early, `the seventh waits two periods, ${starts}`);
  for (let i = 3; i < starts.length; i++) {
    assert.ok(starts[i]! - starts[i - 3]! >= period - early, `sliding window, ${starts}`);
  }
  assert.ok(starts[6]! < 2 * period + 1000, `no needless wait, ${starts}`);
});

test("rateLimit keeps the limit when timers fire late", async () => {
  const period = 300;
  const started = Date.now();
  const starts: number[] = [];
  const handler = rateLimit(3, period)(() => void starts.push(Date.now() - started));
  // Block the event loop across the second batch's start: its timers fire late, the
  // third batch's on time, which must still wait a whole period after the second.
  setTimeout(() => {
    const until = Date.now() + 40;
    while (Date.now() < until) { /* busy */ }
  }, period - 20);
  await Promise.all([0, 1, 2, 3, 4, 5, 6].map((n) => handler(n, job())));
  assert.equal(starts.length, 7);
  for (let i = 3; i < starts.length; i++) {
    assert.ok(starts[i]! - starts[i - 3]! >= period - 5, `sliding window, ${starts}`);
  }
});

test("rateLimit shares one limit among the handlers it wraps", async () => {
  const limit = rateLimit(1, 200);
  const times: number[] = [];
  const a = limit(() => void times.push(Date.now()));
  const b = limit((_: string) => void times.push(Date.now()));
  await Promise.all([a(1, job()), b("x", job())]);
  assert.ok(times[1]! - times[0]! >= 195, `second start waited, ${times[1]! - times[0]!} ms`);
});

test("rateLimit rejects a waiting job with the signal's reason and frees its place", async () => {
  const calls: string[] = [];
  const handler = rateLimit(1, 1000)((m: string) => void calls.push(m));
  await handler("first", job());
  const abort = new AbortController();
  const reason = new Error("shutting down");
  const waiting = handler("second", job(abort.signal));
  setTimeout(() => abort.abort(reason), 50);
  const t0 = Date.now();
  await assert.rejects(waiting, (error) => error === reason);
  assert.ok(Date.now() - t0 < 500, "rejected at once");
  // The aborted job did not take the next slot.
  const t1 = Date.now();
  await handler("third", job());
  // Had the second kept its reservation, the third would wait until 2000 ms.
  assert.ok(Date.now() - t1 < 1500, "third starts after the first's period, not the second's");
  assert.deepEqual(calls, ["first", "third"]);
  await assert.rejects(handler("late", job(AbortSignal.abort(reason))), (e) => e === reason);
  assert.deepEqual(calls, ["first", "third"]);
});

test("rateLimit names the argument it rejects", () => {
  for (const maxJobs of [0, -1, 1.5, Number.NaN, "3" as unknown as number]) {
    assert.throws(
      () => rateLimit(maxJobs, 1000),
      /Invalid maxJobs of rateLimit: must be a positive integer/,
    );
  }
  for (const period of [0, -5, Number.NaN, Infinity]) {
    assert.throws(
      () => rateLimit(1, period),
      /Invalid period of rateLimit: must be a positive number of milliseconds/,
    );
  }
  assert.throws(() => rateLimit(1, 1000)(42 as never), /Invalid handler for rateLimit/);
});

// ---------------------------------------------------------------------------
// requireThat

test("requireThat waits until the predicate holds, polling every pause", async () => {
  let ready = false;
  let checks = 0;
  setTimeout(() => ready = true, 150);
  const t0 = Date.now();
  const handler = requireThat(async () => {
    checks++;
    await sleep(1);
    return ready;
  }, { pause: 20 })((n: number) => n + 1);
  assert.equal(await handler(1, job()), 2);
  assert.ok(Date.now() - t0 >= 140, "waited for the predicate");
  assert.ok(checks >= 2 && checks <= 12, `polled every pause, ${checks} checks`);
  // Once it holds, no wait.
  const t1 = Date.now();
  assert.equal(await handler(2, job()), 3);
  assert.ok(Date.now() - t1 < 100);
});

test("requireThat gives the predicate the message and the job", async () => {
  const seen: [number, number][] = [];
  const handler = requireThat((n: number, j) => {
    seen.push([n, j.attempt]);
    return n > 0;
  }, { pause: 10 })((n) => n);
  assert.equal(await handler(5, job()), 5);
  assert.deepEqual(seen, [[5, 1]]);
});

test("requireThat rejects with the signal's reason when the job aborts while waiting", async () => {
  let called = false;
  const abort = new AbortController();
  const reason = new Error("job timed out");
  const handler = requireThat(() => false, { pause: 30 })(() => called = true);
  setTimeout(() => abort.abort(reason), 100);
  const t0 = Date.now();
  await assert.rejects(handler(undefined, job(abort.signal)), (e) => e === reason);
  assert.ok(Date.now() - t0 < 500);
  assert.equal(called, false);
  await assert.rejects(handler(undefined, job(AbortSignal.abort(reason))), (e) => e === reason);
});

test("requireThat fails the job when the predicate throws", async () => {
  const handler = requireThat(() => {
    throw new Error("database gone");
  })(() => "never");
  await assert.rejects(handler(1, job()), /database gone/);
});

test("requireThat names the argument it rejects", () => {
  assert.throws(
    () => requireThat(true as never),
    /Invalid predicate of requireThat: expected a function, got boolean/,
  );
  for (const pause of [0, -1, Number.NaN]) {
    assert.throws(
      () => requireThat(() => true, { pause }),
      /Invalid pause of requireThat: must be a positive number of milliseconds/,
    );
  }
});

// ---------------------------------------------------------------------------
// suppress

class NotFoundError extends Error {
  override name = "NotFoundError";
}
class GoneError extends NotFoundError {
  override name = "GoneError";
}

function recordingLogger(lines: [string, string, Record<string, unknown> | undefined][]): Logger {
  return {
    error: (m, d) => lines.push(["error", m, d]),
    warn: (m, d) => lines.push(["warn", m, d]),
    info: (m, d) => lines.push(["info", m, d]),
  };
}

test("suppress logs and swallows the listed errors and their subclasses", async () => {
  const lines: [string, string, Record<string, unknown> | undefined][] = [];
  const logger = recordingLogger(lines);
  const error = new GoneError("user 7");
  async function syncUser(id: number): Promise<string> {
    await sleep(1);
    if (id === 7) throw error;
    return `synced ${id}`;
  }
  const handler = suppress(SyntaxError, NotFoundError, { logger })(syncUser);
  assert.equal(await handler(1, job()), "synced 1");
  assert.equal(await handler(7, job()), undefined);
  assert.equal(lines.length, 1);
  const [level, message, data] = lines[0] ?? assert.fail("nothing was logged");
  assert.equal(level, "warn");
  assert.equal(message, "Suppressed GoneError in handler syncUser");
  assert.equal(data?.error, error);
  assert.equal(data?.attempt, 1);
  assert.equal(data?.traceId, "trace-1");
  assert.equal(handler.name, "syncUser");
});

test("suppress rethrows errors it does not list, sync or async", async () => {
  const lines: [string, string, Record<string, unknown> | undefined][] = [];
  const logger = recordingLogger(lines);
  const sync = suppress(NotFoundError, { logger })(() => {
    throw new TypeError("bug");
  });
  await assert.rejects(sync(1, job()), TypeError);
  const rejected = suppress(NotFoundError, { logger })(() => Promise.reject("a string"));
  await assert.rejects(rejected(1, job()), (e) => e === "a string");
  const swallowedSync = suppress(TypeError, { logger })((_: number) => {
    throw new TypeError("expected");
  });
  assert.equal(await swallowedSync(1, job()), undefined);
  assert.equal(lines.length, 1);
});

test("suppress rethrows the job's own abort even when it lists its class", async () => {
  const lines: [string, string, Record<string, unknown> | undefined][] = [];
  const abort = new AbortController();
  const reason = new Error("shutdown");
  const handler = suppress(Error, { logger: recordingLogger(lines) })(
    async (_: number, j: Job) => {
      abort.abort(reason);
      j.signal.throwIfAborted();
      await sleep(1);
    },
  );
  await assert.rejects(handler(1, job(abort.signal)), (e) => e === reason);
  assert.deepEqual(lines, []);
});

test("suppress names the argument it rejects", () => {
  assert.throws(
    () => suppress(),
    /Invalid arguments of suppress: expected at least one error class/,
  );
  assert.throws(() => suppress({ logger: console }), /at least one error class/);
  assert.throws(
    () => suppress(TypeError, "RangeError" as never),
    /Invalid argument 2 of suppress: expected an error class, got "RangeError"/,
  );
  assert.throws(
    () => suppress(TypeError, { logger: {} as Logger }),
    /Invalid logger of suppress: expected a Logger/,
  );
});

// ---------------------------------------------------------------------------
// types (checked by `deno check`)

test("decorators keep the handler's message and result types", async () => {
  const ev = new Event("count-words", v.string()).withResponse(v.number());
  // A decorator that always calls the handler fits a request/response actor.
  new Actor("count", ev, rateLimit(10, 1000)(requireThat(() => true)((text) => text.length)));
  // One that may skip the handler does not: the response would be missing.
  // @ts-expect-error Promise<number | undefined> is not a number response
  new Actor("count-filtered", ev, suppress(Error)((text: string) => text.length));
  // The clock's handler gets a Date.
  new Actor("tick", minutePassed, filterTime({ minute: 0 })((date) => date.getTime()));
  // @ts-expect-error without options.date the message must be a Date
  filterTime({ minute: 0 })((text: string) => text);
  const counted: Promise<number> = rateLimit(1, 1)((s: string) => s.length)("abc", job());
  assert.equal(await counted, 3);
});
