import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsServer } from "../../testing.ts";
import { Actor, type AroundJob, Event, type Logger, type Middleware } from "../../mod.ts";
import { settledInfo, uniqueName } from "../_helpers.ts";
import { setup } from "./_setup.ts";

function recordingLogger(lines: string[]): Logger {
  return {
    error: (m) => void lines.push(m),
    warn: (m) => void lines.push(m),
    info: () => {},
  };
}

test("a middleware that throws or never settles neither loses nor delays messages", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.number());
  const never = () => new Promise<void>(() => {});
  const broken: Middleware & AroundJob = {
    onStart: () => {
      throw new Error("onStart broke");
    },
    onSuccess: () => Promise.reject(new Error("onSuccess broke")),
    onFailure: never,
    aroundJob: () => {
      throw new Error("aroundJob broke before next");
    },
  };
  const hanging: Middleware = { onStart: never, onSuccess: never };
  const laterBroken: AroundJob & Middleware = {
    onStart() {},
    aroundJob: async (_scope, next) => {
      await next();
      throw new Error("aroundJob broke after next");
    },
  };
  const handled: number[] = [];
  let failedOnce = false;
  let calls = 0;
  const a = new Actor("robust", e, (n) => {
    calls += 1;
    if (n === 3 && !failedOnce) {
      failedOnce = true;
      throw new Error("one retry");
    }
    handled.push(n);
  }, { middlewares: [broken, hanging, laterBroken], retryDelay: [1], maxJobs: 1 });
  await using ctx = await setup(server.url, e, [a]);
  for (let n = 0; n < 20; n++) await ctx.events.emit(e, n, { sync: true });
  const lines: string[] = [];
  const started = performance.now();
  while (handled.length < 20 && performance.now() - started < 10_000) {
    await ctx.conn.listen({ burst: true, logger: recordingLogger(lines) });
  }
  const elapsed = performance.now() - started;
  assert.deepEqual(handled.toSorted((x, y) => x - y), [...Array(20).keys()]);
  // One job at a time, 21 jobs: hooks that never settle did not hold any of them.
  assert.ok(elapsed < 5000, `took ${elapsed} ms`);
  const jsm = await jetstreamManager(ctx.events.connection);
  const info = await settledInfo(jsm, e.streamName, "robust");
  assert.equal(info.num_pending, 0);
  assert.equal(info.num_ack_pending, 0);
  assert.equal(calls, 21); // 20 messages, one retried once
  // Every broken hook was reported, none stopped the job.
  assert.ok(lines.some((l) => /middleware onStart of actor "robust" failed/.test(l)));
  assert.ok(lines.some((l) => /middleware onSuccess of actor "robust" failed/.test(l)));
  assert.equal(
    lines.filter((l) => /middleware aroundJob of actor "robust" failed/.test(l)).length,
    42,
  );
});

test("aroundJob wrappers nest in middleware order around the handler", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  const order: string[] = [];
  const wrap = (name: string): Middleware & AroundJob => ({
    onStart: () => void order.push(`${name} start`),
    onSuccess: () => void order.push(`${name} success`),
    aroundJob: async (scope, next) => {
      order.push(`${name} before ${scope.context.attempts}`);
      await next();
      order.push(`${name} after`);
    },
  });
  const a = new Actor("wrapped", e, () => void order.push("handler"), {
    middlewares: [wrap("outer"), wrap("inner")],
  });
  await using ctx = await setup(server.url, e, [a]);
  await ctx.events.emit(e, "x", { sync: true });
  await ctx.conn.listen({ burst: true, logger: recordingLogger([]) });
  assert.deepEqual(order, [
    "outer start",
    "inner start",
    "outer before 1",
    "inner before 1",
    "handler",
    "inner after",
    "outer after",
    "outer success",
    "inner success",
  ]);
});
