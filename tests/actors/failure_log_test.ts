// The failure log: every failed attempt is logged with its stack, rate-limited per actor
// so that a failure storm stays readable, with a count of what was held back.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { startNatsServer } from "../../testing.ts";
import { Actor, Actors, Event, Events, type Logger } from "../../mod.ts";
import { FailureLog } from "../../src/actors/_failure_log.ts";
import { uniqueName, until } from "../_helpers.ts";

function recording(lines: { level: string; message: string; data?: unknown }[]): Logger {
  return {
    error: (message, data) => void lines.push({ level: "error", message, data }),
    warn: (message, data) => void lines.push({ level: "warn", message, data }),
    info: (message, data) => void lines.push({ level: "info", message, data }),
  };
}

test("FailureLog logs a burst in full, then counts, and reports the count once the interval passed", () => {
  const lines: { level: string; message: string; data?: unknown }[] = [];
  let now = 0;
  const log = new FailureLog(recording(lines), "mailer", {
    burst: 3,
    interval: 10_000,
    now: () => now,
    timer: false,
  });
  for (let i = 1; i <= 10; i++) {
    now += 10;
    log.retrying({ streamSeq: i, attempt: 1, maxAttempts: 5, error: new Error(`boom ${i}`) }, 500);
  }
  assert.equal(lines.length, 3);
  assert.equal(log.suppressed, 7);
  assert.match(
    lines[0]!.message,
    /^attempt 1 of 5 of actor "mailer" failed on message 1; retrying in 500 ms: Error: boom 1\n\s+at /,
  );
  assert.deepEqual(
    { ...(lines[0]!.data as Record<string, unknown>), stack: undefined },
    {
      actor: "mailer",
      streamSeq: 1,
      attempt: 1,
      maxAttempts: 5,
      delay: 500,
      error: "Error: boom 1",
      stack: undefined,
    },
  );
  // The bucket refills 3 per 10 s: the next failure after the interval reports first.
  now += 10_000;
  log.terminated(
    { streamSeq: 11, attempt: 5, maxAttempts: 5, error: "gone" },
    "attempt 5 of 5 failed",
    "",
  );
  assert.equal(lines.length, 5);
  assert.equal(lines[3]!.level, "warn");
  assert.equal(
    lines[3]!.message,
    `… 7 more failures of actor "mailer" suppressed in the last 10 s (the last: Error: boom 10)`,
  );
  assert.equal(lines[4]!.level, "error");
  assert.equal(
    lines[4]!.message,
    `message 11 of actor "mailer" terminated: attempt 5 of 5 failed: gone`,
  );
  assert.equal(log.suppressed, 0);
  log.flush();
  assert.equal(lines.length, 5, "nothing held back, nothing to report");
});

test("FailureLog refills gradually: one line per interval / burst", () => {
  const lines: { level: string; message: string }[] = [];
  let now = 0;
  const log = new FailureLog(recording(lines), "a", {
    burst: 2,
    interval: 1000,
    now: () => now,
    timer: false,
  });
  const fail = () =>
    log.retrying({ streamSeq: 1, attempt: 1, maxAttempts: undefined, error: null }, 1);
  fail();
  fail();
  fail(); // suppressed
  assert.equal(lines.length, 2);
  assert.match(
    lines[0]!.message,
    /^attempt 1 of actor "a" failed on message 1; retrying in 1 ms: null$/,
  );
  now += 500; // one token back
  fail();
  assert.equal(lines.length, 3);
  log.flush();
  assert.equal(lines.length, 4);
  assert.match(lines[3]!.message, /^… 1 more failure of actor "a" suppressed in the last 1 s/);
});

test("Actors.listen logs each failed attempt with its stack, at most a burst, then how many were held back", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("storm"), v.number());
  let runs = 0;
  const a = new Actor("flaky", e, () => {
    runs++;
    throw new Error("downstream is down");
  }, { maxAttempts: 30, retryDelay: [1] });
  await using conn = await new Actors(a).connect(server.url);
  await conn.register();
  await using events = await new Events(e).connect(server.url);
  await events.emit(e, 1, { sync: true });
  const lines: { level: string; message: string; data?: unknown }[] = [];
  const stop = new AbortController();
  const listening = conn.listen({ signal: stop.signal, logger: recording(lines) });
  await until(
    () => conn.health().actors.flaky?.deadLetters.stored === 1,
    20_000,
    "the dead letter",
  );
  stop.abort();
  await listening;
  assert.equal(runs, 30);
  const full = lines.filter((l) => /^attempt \d+ of 30 of actor "flaky" failed/.test(l.message));
  assert.equal(full.length, 10, lines.map((l) => l.message).join("\n"));
  assert.equal(full[0]!.level, "warn");
  assert.match(
    full[0]!.message,
    /^attempt 1 of 30 of actor "flaky" failed on message 1; retrying in 1 ms: Error: downstream is down\n\s+at /,
  );
  const summary = lines.filter((l) => /more failures of actor "flaky" suppressed/.test(l.message));
  assert.equal(summary.length, 1, lines.map((l) => l.message).join("\n"));
  // 29 retries: 10 in full, the rest counted; the termination has its own budget.
  const [, count] = summary[0]!.message.match(/… (\d+) more/)!;
  assert.equal(Number(count), 19);
  const terminated = lines.filter((l) => /^message 1 of actor "flaky" terminated/.test(l.message));
  assert.equal(terminated.length, 1);
  assert.equal(terminated[0]!.level, "error");
  assert.match(
    terminated[0]!.message,
    /attempt 30 of 30 failed .*: Error: downstream is down\n\s+at /,
  );
  assert.equal(lines.length, 12, lines.map((l) => l.message).join("\n"));
});
