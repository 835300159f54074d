import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorThreshold, type FailureContext, Frequency, JobTimeoutError } from "../../mod.ts";
import { context, failure, success, unitActor } from "./_setup.ts";

function clock(start = 1_000_000) {
  const c = { now: start, tick: (ms: number) => void (c.now += ms) };
  return c;
}

test("Frequency reports a kind of failure once per time frame", () => {
  const seen: FailureContext[] = [];
  const time = clock();
  const mw = new Frequency((ctx) => void seen.push(ctx), {
    timeFrame: 1000,
    now: () => time.now,
  });
  const a = unitActor();
  mw.onFailure(failure(context(a)));
  time.tick(500);
  mw.onFailure(failure(context(a)));
  time.tick(499);
  mw.onFailure(failure(context(a)));
  assert.equal(seen.length, 1);
  time.tick(1);
  mw.onFailure(failure(context(a)));
  assert.equal(seen.length, 2);
});

test("Frequency tells actors and error types apart", () => {
  const seen: string[] = [];
  const time = clock();
  const mw = new Frequency(
    (ctx) => void seen.push(`${ctx.actor.name} ${(ctx.error as Error).name}`),
    {
      timeFrame: 1000,
      now: () => time.now,
    },
  );
  const a = unitActor("a-one");
  const b = unitActor("b-two");
  mw.onFailure(failure(context(a), new TypeError("x")));
  mw.onFailure(failure(context(a), new TypeError("y")));
  mw.onFailure(failure(context(a), new JobTimeoutError("a-one", 10)));
  mw.onFailure(failure(context(b), new TypeError("x")));
  assert.deepEqual(seen, ["a-one TypeError", "a-one JobTimeoutError", "b-two TypeError"]);
});

test("Frequency with perActor and perErrorType off reports once per frame overall", () => {
  let count = 0;
  const time = clock();
  const mw = new Frequency(() => void count++, {
    timeFrame: 1000,
    perActor: false,
    perErrorType: false,
    now: () => time.now,
  });
  mw.onFailure(failure(context(unitActor("a-one")), new TypeError("x")));
  mw.onFailure(failure(context(unitActor("b-two")), new RangeError("y")));
  mw.onFailure(failure(context(unitActor("c-three")), "a string"));
  assert.equal(count, 1);
  time.tick(1000);
  mw.onFailure(failure(context(unitActor("b-two")), new RangeError("y")));
  assert.equal(count, 2);
});

test("Frequency composes with ErrorThreshold, which still sees successes", () => {
  let alerts = 0;
  const time = clock();
  const mw = new ErrorThreshold(
    new Frequency(() => void alerts++, { timeFrame: 60_000, now: () => time.now }),
    { actor: 2 },
  );
  const a = unitActor();
  mw.onFailure(failure(context(a)));
  mw.onFailure(failure(context(a))); // threshold reached: alert
  mw.onFailure(failure(context(a))); // same kind within the frame: dropped
  mw.onSuccess(success(context(a)));
  time.tick(60_000);
  mw.onFailure(failure(context(a))); // count restarted after the success
  assert.equal(alerts, 1);
  mw.onFailure(failure(context(a)));
  assert.equal(alerts, 2);
});

test("Frequency rejects a non-positive time frame", () => {
  assert.throws(() => new Frequency(() => {}, { timeFrame: 0 }), RangeError);
  assert.throws(() => new Frequency(() => {}, { timeFrame: Number.NaN }), /positive milliseconds/);
});
