import { test } from "node:test";
import assert from "node:assert/strict";
import { ErrorThreshold, type FailureContext, type Middleware } from "../../mod.ts";
import { context, failure, success, unitActor } from "./_setup.ts";

function collector() {
  const seen: FailureContext[] = [];
  return { seen, report: (ctx: FailureContext) => void seen.push(ctx) };
}

test("ErrorThreshold reports an actor's failures only from the Nth in a row", () => {
  const { seen, report } = collector();
  const mw = new ErrorThreshold(report, { actor: 3 });
  const a = unitActor("a-one");
  mw.onFailure(failure(context(a)));
  mw.onFailure(failure(context(a)));
  assert.equal(seen.length, 0);
  mw.onFailure(failure(context(a)));
  mw.onFailure(failure(context(a)));
  assert.equal(seen.length, 2);
  // A success resets the count.
  mw.onSuccess(success(context(a)));
  mw.onFailure(failure(context(a)));
  mw.onFailure(failure(context(a)));
  assert.equal(seen.length, 2);
  mw.onFailure(failure(context(a)));
  assert.equal(seen.length, 3);
});

test("ErrorThreshold per actor keeps separate counts and resets only the succeeding actor", () => {
  const { seen, report } = collector();
  const mw = new ErrorThreshold(report, { actor: 2 });
  const a = unitActor("a-one");
  const b = unitActor("b-two");
  mw.onFailure(failure(context(a)));
  mw.onFailure(failure(context(b)));
  mw.onSuccess(success(context(b)));
  assert.equal(seen.length, 0);
  mw.onFailure(failure(context(a)));
  assert.deepEqual(seen.map((c) => c.actor.name), ["a-one"]);
  mw.onFailure(failure(context(b)));
  assert.equal(seen.length, 1);
});

test("ErrorThreshold total counts failures of all actors and any success resets it", () => {
  const { seen, report } = collector();
  const mw = new ErrorThreshold(report, { total: 3 });
  const a = unitActor("a-one");
  const b = unitActor("b-two");
  mw.onFailure(failure(context(a)));
  mw.onFailure(failure(context(b)));
  mw.onSuccess(success(context(b)));
  mw.onFailure(failure(context(a)));
  mw.onFailure(failure(context(b)));
  assert.equal(seen.length, 0);
  mw.onFailure(failure(context(a)));
  assert.equal(seen.length, 1);
});

test("ErrorThreshold message uses the attempt number of the failing message", () => {
  const { seen, report } = collector();
  const mw = new ErrorThreshold(report, { message: 3 });
  const a = unitActor();
  mw.onFailure(failure(context(a, { attempt: 1 })));
  mw.onFailure(failure(context(a, { attempt: 2 })));
  assert.equal(seen.length, 0);
  mw.onFailure(failure(context(a, { attempt: 3 })));
  assert.equal(seen.length, 1);
  // Another message on its first attempt is not reported, successes in between or not.
  mw.onFailure(failure(context(a, { attempt: 1 })));
  assert.equal(seen.length, 1);
});

test("ErrorThreshold defaults to 20 failures of an actor in a row", () => {
  const { seen, report } = collector();
  const mw = new ErrorThreshold(report);
  const a = unitActor();
  for (let i = 0; i < 19; i++) mw.onFailure(failure(context(a)));
  assert.equal(seen.length, 0);
  mw.onFailure(failure(context(a)));
  assert.equal(seen.length, 1);
});

test("ErrorThreshold wraps a middleware: failures filtered, starts and successes passed on", async () => {
  const calls: string[] = [];
  const inner: Middleware = {
    onStart: () => void calls.push("start"),
    onSuccess: () => void calls.push("success"),
    onFailure: async (ctx) => {
      await Promise.resolve();
      calls.push(`failure ${ctx.attempts}`);
    },
  };
  const mw = new ErrorThreshold(inner, { message: 2 });
  const a = unitActor();
  mw.onStart(context(a));
  await mw.onFailure(failure(context(a, { attempt: 1 })));
  await mw.onFailure(failure(context(a, { attempt: 2 })));
  mw.onSuccess(success(context(a)));
  assert.deepEqual(calls, ["start", "failure 2", "success"]);
});

test("ErrorThreshold rejects bad thresholds and targets", () => {
  assert.throws(() => new ErrorThreshold(() => {}, { actor: 0 }), RangeError);
  assert.throws(() => new ErrorThreshold(() => {}, { total: 1.5 }), /positive integer, got 1.5/);
  assert.throws(() => new ErrorThreshold(null as never), TypeError);
});
