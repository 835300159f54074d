// The shared abortable sleep and race-with-timeout (src/_async.ts) that every waiting
// module uses: how they end, and that they leave no timer or listener behind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { sleep, within } from "../src/_async.ts";

test("sleep resolves true once the time passed", async () => {
  const started = performance.now();
  assert.equal(await sleep(30), true);
  assert.ok(performance.now() - started >= 25, "slept at least about 30 ms");
});

test("sleep resolves false when the signal aborts, and at once if it already had", async () => {
  const stop = new AbortController();
  const started = performance.now();
  setTimeout(() => stop.abort(), 20);
  assert.equal(await sleep(10_000, stop.signal), false);
  assert.ok(performance.now() - started < 5_000, "the abort cut the sleep short");

  const quick = performance.now();
  assert.equal(await sleep(10_000, stop.signal), false);
  assert.ok(performance.now() - quick < 1_000, "an aborted signal does not wait");
});

test("sleep removes its abort listener when the time passes", async () => {
  const stop = new AbortController();
  let listeners = 0;
  const add = stop.signal.addEventListener.bind(stop.signal);
  const remove = stop.signal.removeEventListener.bind(stop.signal);
  stop.signal.addEventListener = ((...args: Parameters<typeof add>) => {
    listeners += 1;
    add(...args);
  }) as typeof add;
  stop.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
    listeners -= 1;
    remove(...args);
  }) as typeof remove;
  for (let i = 0; i < 3; i++) assert.equal(await sleep(1, stop.signal), true);
  assert.equal(listeners, 0);
});

test("within tells whether the promise fulfilled in time", async () => {
  assert.equal(await within(new Promise((resolve) => setTimeout(resolve, 10)), 5_000), true);
  const started = performance.now();
  assert.equal(await within(new Promise(() => {}), 30), false);
  assert.ok(performance.now() - started >= 25, "waited about the 30 ms");
});

test("within rejects when the promise rejects in time", async () => {
  await assert.rejects(within(Promise.reject(new Error("boom")), 5_000), /boom/);
});

test("within with Infinity waits for the promise however long it takes", async () => {
  assert.equal(await within(new Promise((resolve) => setTimeout(resolve, 50)), Infinity), true);
});
