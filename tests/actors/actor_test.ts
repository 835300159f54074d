import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { Actor, Event, Priority } from "../../mod.ts";

const e = new Event("thing-happened", v.string());
const noop = () => {};

test("Actor has the seed's defaults", () => {
  const a = new Actor("do-thing", e, noop);
  assert.equal(a.consumerName, "do-thing");
  assert.equal(a.ackWait, 16_000);
  assert.equal(a.maxAttempts, undefined);
  assert.equal(a.maxAckPending, 1000);
  assert.equal(a.maxJobs, 16);
  assert.equal(a.jobTimeout, 32_000);
  assert.equal(a.executeIn, "main");
  assert.deepEqual(a.retryDelay, [500, 1000, 2000, 4000]);
  assert.equal(a.pulse, true);
  assert.equal(a.priority, Priority.NORMAL);
  assert.ok(Object.isFrozen(a));
});

test("Actor retryDelayAfter uses the first delay for the first retry and the last one after", () => {
  const a = new Actor("do-thing", e, noop, { retryDelay: [10, 20, 30] });
  assert.deepEqual([1, 2, 3, 4, 9].map((n) => a.retryDelayAfter(n)), [10, 20, 30, 30, 30]);
});

test("Actor rejects bad names and option values, naming the actor and option", () => {
  assert.throws(() => new Actor("", e, noop), /Invalid actor name "": the name is empty/);
  assert.throws(() => new Actor("do.thing", e, noop), /'\.' is not allowed in actor names/);
  assert.throws(() => new Actor("DoThing", e, noop), /not kebab-case/);
  assert.throws(
    () => new Actor("a", e, noop, { ackWait: 0 }),
    /Invalid option of actor "a": ackWait must be milliseconds from 1 up to 9223372036854 .*, got 0/,
  );
  assert.throws(
    () => new Actor("a", e, noop, { maxAttempts: 1.5 }),
    /maxAttempts must be a positive integer/,
  );
  assert.throws(() => new Actor("a", e, noop, { maxJobs: -1 }), RangeError);
  assert.throws(() => new Actor("a", e, noop, { jobTimeout: Number.NaN }), RangeError);
  assert.throws(
    () => new Actor("a", e, noop, { retryDelay: [] }),
    /retryDelay must be a non-empty array/,
  );
  assert.throws(() => new Actor("a", e, noop, { retryDelay: [-1] }), /retryDelay items/);
  assert.throws(() => new Actor("a", e, noop, { priority: 7 as never }), /priority must be/);
  assert.throws(() => new Actor("a", e, noop, { executeIn: "gpu" as never }), /executeIn must be/);
  assert.throws(() => new Actor("a", e, noop, { executeIn: "process" }), /needs a worker handler/);
  assert.throws(() => new Actor("a", e, "nope" as never), /Invalid handler of actor "a"/);
});
