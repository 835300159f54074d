import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsServer } from "../../testing.ts";
import {
  Actor,
  Actors,
  ConsumerConfigError,
  Event,
  Events,
  type Job,
  type Logger,
  type Middleware,
  UnrecoverableError,
} from "../../mod.ts";
import { settledInfo, sleep, uniqueName, until, untilStored } from "../_helpers.ts";
import {
  AHEAD_PER_SLOT,
  MAX_AHEAD,
  MAX_AHEAD_BYTES,
  PullPlan,
} from "../../src/actors/pull_plan.ts";

const quiet: Logger = { error() {}, warn() {}, info() {} };

function recordingLogger(lines: string[]): Logger {
  return {
    error: (m) => lines.push(`error ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    info: (m) => lines.push(`info ${m}`),
  };
}

async function setup<T>(
  url: string,
  event: Event<T, never>,
  ...actors: Actor<T, never>[]
) {
  const events = await new Events(event).connect(url);
  await events.register();
  const conn = await new Actors(...actors).connect(url);
  await conn.register();
  const jsm = await jetstreamManager(conn.connection);
  return {
    events,
    conn,
    jsm,
    async [Symbol.asyncDispose]() {
      await conn.close();
      await events.close();
    },
  };
}

/** The consumer's counts, once the acks sent before are applied (see `settledInfo`). */
async function consumerState(
  jsm: Awaited<ReturnType<typeof jetstreamManager>>,
  e: Event<unknown>,
  name: string,
) {
  const info = await settledInfo(jsm, e.streamName, name);
  return {
    pending: info.num_pending,
    ackPending: info.num_ack_pending,
    redelivered: info.num_redelivered,
  };
}

test("Actors.register creates a durable consumer with the actor's server-side options", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  const a = new Actor("reg-actor", e, () => {}, {
    ackWait: 3000,
    maxAttempts: 4,
    maxAckPending: 50,
    description: "registers",
  });
  await using ctx = await setup(server.url, e, a);
  const info = await ctx.jsm.consumers.info(e.streamName, "reg-actor");
  assert.equal(info.config.durable_name, "reg-actor");
  assert.equal(info.config.ack_wait, 3000 * 1e6);
  assert.equal(info.config.max_deliver, 9);
  assert.equal(info.config.max_ack_pending, 50);
  assert.equal(info.config.description, "registers");
  assert.equal(info.config.filter_subject, e.name);
  // Registering again with changed mutable options updates the consumer.
  const b = new Actor("reg-actor", e, () => {}, { ackWait: 5000, maxAckPending: 60 });
  await using conn2 = await new Actors(b).connect(server.url);
  await conn2.register();
  const after = await ctx.jsm.consumers.info(e.streamName, "reg-actor");
  assert.equal(after.config.ack_wait, 5000 * 1e6);
  assert.equal(after.config.max_ack_pending, 60);
});

test("Actors.register creates a missing stream from the event and leaves an existing one", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.number(), { limits: { messages: 50 } });
  const a = new Actor("first-here", e, () => {});
  await using conn = await new Actors(a).connect(server.url);
  await conn.register();
  const jsm = await jetstreamManager(conn.connection);
  const info = await jsm.streams.info(e.streamName);
  assert.deepEqual(info.config.subjects, [e.name]);
  assert.equal(info.config.max_msgs, 50);
  assert.equal(info.config.retention, "interest");
  // A publisher that later registers the same event finds its stream in place.
  await using events = await new Events(e).connect(server.url);
  await events.register();
  await events.emit(e, 7, { sync: true });
  const seen: number[] = [];
  const b = new Actor("first-here", e, (n) => void seen.push(n));
  await using again = await new Actors(b).connect(server.url);
  await again.register();
  await again.listen({ burst: true, logger: quiet });
  assert.deepEqual(seen, [7]);
});

test("Actors.connect names the server it cannot reach", async () => {
  await assert.rejects(
    new Actors().connect("nats://127.0.0.1:1"),
    /Cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/,
  );
});

test("Actors.register names the actor and the immutable option that changed", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  await using ctx = await setup(server.url, e);
  // Someone created the consumer with another ack policy.
  await ctx.jsm.consumers.add(e.streamName, { durable_name: "fixed", ack_policy: "all" as never });
  await using conn = await new Actors(new Actor("fixed", e, () => {})).connect(server.url);
  await assert.rejects(conn.register(), (err: Error) => {
    assert.ok(err instanceof ConsumerConfigError, String(err));
    assert.equal(err.actor, "fixed");
    assert.match(err.message, /Cannot register actor "fixed"/);
    assert.match(err.message, /ack policy/);
    return true;
  });
});

test("Actors.listen acks handled messages and burst returns when the stream is drained", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.object({ n: v.number() }));
  const seen: number[] = [];
  const a = new Actor("count", e, async (m) => {
    await sleep(1);
    seen.push(m.n);
  });
  await using ctx = await setup(server.url, e, a);
  // Sync emits: a burst handles what the stream has stored when it runs.
  for (let i = 0; i < 200; i++) await ctx.events.emit(e, { n: i }, { sync: true });
  await ctx.conn.listen({ burst: true, logger: quiet });
  assert.equal(seen.length, 200);
  assert.equal(new Set(seen).size, 200);
  assert.deepEqual(await consumerState(ctx.jsm, e, "count"), {
    pending: 0,
    ackPending: 0,
    redelivered: 0,
  });
});

test("Actors.listen retries failures after retryDelay and enforces maxAttempts", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  const times: number[] = [];
  const attempts: number[] = [];
  const a = new Actor("flaky", e, (_m, job: Job) => {
    times.push(Date.now());
    attempts.push(job.attempt);
    throw new Error("boom");
  }, { retryDelay: [300, 600], maxAttempts: 3 });
  await using ctx = await setup(server.url, e, a);
  const lines: string[] = [];
  const controller = new AbortController();
  const listening = ctx.conn.listen({ signal: controller.signal, logger: recordingLogger(lines) });
  await ctx.events.emit(e, "x");
  await until(() => times.length === 3, 10_000, "three attempts");
  await sleep(900); // a fourth attempt would come 600 ms after the third
  controller.abort();
  await listening;
  assert.deepEqual(attempts, [1, 2, 3]);
  const gaps = [times[1]! - times[0]!, times[2]! - times[1]!];
  assert.ok(gaps[0]! >= 280 && gaps[0]! < 1500, `first retry after ${gaps[0]} ms`);
  assert.ok(gaps[1]! >= 580 && gaps[1]! < 2000, `second retry after ${gaps[1]} ms`);
  assert.ok(lines.some((l) => /terminated: attempt 3 of 3 failed/.test(l)), lines.join("\n"));
  const state = await consumerState(ctx.jsm, e, "flaky");
  assert.equal(state.ackPending, 0);
  assert.equal(state.pending, 0);
});

test("Actors.listen terminates on UnrecoverableError without retrying", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  let calls = 0;
  const failures: unknown[] = [];
  const mw: Middleware = { onFailure: (ctx) => void failures.push(ctx.error) };
  const a = new Actor("give-up", e, () => {
    calls += 1;
    throw new UnrecoverableError("bad order");
  }, { retryDelay: [50], middlewares: [mw] });
  await using ctx = await setup(server.url, e, a);
  const controller = new AbortController();
  const listening = ctx.conn.listen({ signal: controller.signal, logger: quiet });
  await ctx.events.emit(e, "x");
  await until(() => calls === 1 && failures.length === 1);
  await sleep(300);
  controller.abort();
  await listening;
  assert.equal(calls, 1);
  assert.ok(failures[0] instanceof UnrecoverableError);
});

test("Actors.listen honours the delay header and a delayed message keeps all its attempts", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  const calls: { at: number; attempt: number }[] = [];
  const a = new Actor("later", e, (_m, job) => {
    calls.push({ at: Date.now(), attempt: job.attempt });
    if (calls.length < 2) throw new Error("first attempt fails");
  }, { retryDelay: [100], maxAttempts: 2 });
  await using ctx = await setup(server.url, e, a);
  const controller = new AbortController();
  const listening = ctx.conn.listen({ signal: controller.signal, logger: quiet });
  const emitted = Date.now();
  await ctx.events.emit(e, "x", { delay: 800 });
  await until(() => calls.length === 2, 10_000, "two attempts");
  controller.abort();
  await listening;
  assert.ok(calls[0]!.at - emitted >= 790, `handled ${calls[0]!.at - emitted} ms after emit`);
  // The early delivery was not an attempt: with maxAttempts 2 the retry still ran.
  assert.deepEqual(calls.map((c) => c.attempt), [1, 2]);
  assert.equal((await consumerState(ctx.jsm, e, "later")).ackPending, 0);
});

test("Actors.listen aborts job.signal on jobTimeout and retries the job", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  const reasons: unknown[] = [];
  let calls = 0;
  const a = new Actor("slow", e, async (_m, job) => {
    calls += 1;
    if (calls > 1) return;
    await new Promise<void>((resolve) => {
      job.signal.addEventListener("abort", () => {
        reasons.push(job.signal.reason);
        resolve();
      });
    });
  }, { jobTimeout: 200, retryDelay: [50] });
  await using ctx = await setup(server.url, e, a);
  const controller = new AbortController();
  const listening = ctx.conn.listen({ signal: controller.signal, logger: quiet });
  await ctx.events.emit(e, "x");
  await until(() => calls === 2);
  controller.abort();
  await listening;
  assert.equal(reasons.length, 1);
  assert.match(String(reasons[0]), /JobTimeoutError: Job of actor "slow" timed out after 200 ms/);
});

test("Actors.listen reports a sync handler that overran jobTimeout as timed out", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  const errors: unknown[] = [];
  let calls = 0;
  const a = new Actor("blocking", e, () => {
    calls += 1;
    if (calls > 1) return;
    const end = Date.now() + 150;
    while (Date.now() < end) { /* block the loop */ }
  }, {
    jobTimeout: 50,
    retryDelay: [10],
    middlewares: [{ onFailure: (c) => void errors.push(c.error) }],
  });
  await using ctx = await setup(server.url, e, a);
  const controller = new AbortController();
  const listening = ctx.conn.listen({ signal: controller.signal, logger: quiet });
  await ctx.events.emit(e, "x");
  await until(() => calls === 2);
  controller.abort();
  await listening;
  assert.match(String(errors[0]), /timed out after 50 ms/);
});

test("Actors.listen with pulse keeps a job running 3x ackWait delivered exactly once", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  let calls = 0;
  const a = new Actor("pulsing", e, async () => {
    calls += 1;
    await sleep(3000);
  }, { ackWait: 1000, jobTimeout: 10_000 });
  await using ctx = await setup(server.url, e, a);
  // A second listener (another instance) would take a redelivered message.
  await using other = await new Actors(a).connect(server.url);
  const controller = new AbortController();
  const listening = Promise.all([
    ctx.conn.listen({ signal: controller.signal, logger: quiet }),
    other.listen({ signal: controller.signal, logger: quiet }),
  ]);
  await ctx.events.emit(e, "x");
  await until(() => calls === 1);
  await until(async () => {
    const info = await ctx.jsm.consumers.info(e.streamName, "pulsing");
    return info.num_ack_pending === 0;
  }, 8000);
  controller.abort();
  await listening;
  assert.equal(calls, 1);
  assert.equal((await consumerState(ctx.jsm, e, "pulsing")).redelivered, 0);
});

test("Actors.listen without pulse lets the server redeliver a job longer than ackWait", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  let calls = 0;
  const a = new Actor("no-pulse", e, async () => {
    calls += 1;
    if (calls === 1) await sleep(2500);
  }, { ackWait: 1000, jobTimeout: 10_000, pulse: false });
  await using ctx = await setup(server.url, e, a);
  const controller = new AbortController();
  const listening = ctx.conn.listen({ signal: controller.signal, logger: quiet });
  await ctx.events.emit(e, "x");
  await until(() => calls === 2, 8000, "redelivery");
  controller.abort();
  await listening;
  assert.equal(calls, 2);
});

test("Actors.listen on two listeners splits the work with no message handled twice", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.object({ n: v.number() }));
  const byListener: [Set<number>, Set<number>] = [new Set(), new Set()];
  const make = (i: number) =>
    new Actor("split", e, async (m) => {
      await sleep(2);
      byListener[i]?.add(m.n);
    }, { maxJobs: 4 });
  await using ctx = await setup(server.url, e, make(0));
  await using second = await new Actors(make(1)).connect(server.url);
  for (let i = 0; i < 300; i++) await ctx.events.emit(e, { n: i });
  const controller = new AbortController();
  const listening = Promise.all([
    ctx.conn.listen({ signal: controller.signal, logger: quiet }),
    second.listen({ signal: controller.signal, logger: quiet }),
  ]);
  await until(() => byListener[0].size + byListener[1].size >= 300, 15_000, "all handled");
  controller.abort();
  await listening;
  const overlap = [...byListener[0]].filter((n) => byListener[1].has(n));
  assert.deepEqual(overlap, []);
  assert.equal(byListener[0].size + byListener[1].size, 300);
  assert.ok(byListener[0].size > 0 && byListener[1].size > 0, "both listeners got work");
});

test("Actors.listen never exceeds per-actor and global job limits nor holds extra messages", async () => {
  await using server = await startNatsServer();
  const e1 = new Event(uniqueName(), v.number());
  const e2 = new Event(uniqueName(), v.number());
  const running = { a: 0, b: 0, all: 0 };
  const peak = { a: 0, b: 0, all: 0 };
  const handler = (key: "a" | "b") => async () => {
    running[key] += 1;
    running.all += 1;
    peak[key] = Math.max(peak[key], running[key]);
    peak.all = Math.max(peak.all, running.all);
    await sleep(5);
    running[key] -= 1;
    running.all -= 1;
  };
  const a = new Actor("lim-a", e1, handler("a"), { maxJobs: 3 });
  const b = new Actor("lim-b", e2, handler("b"), { maxJobs: 4 });
  const events = await new Events(e1, e2).connect(server.url);
  await events.register();
  await using conn = await new Actors(a, b).connect(server.url);
  await conn.register();
  const jsm = await jetstreamManager(conn.connection);
  for (let i = 0; i < 100; i++) {
    await events.emit(e1, i);
    await events.emit(e2, i);
  }
  await events.connection.flush();
  await untilStored(jsm, { [e1.streamName]: 100, [e2.streamName]: 100 });
  // What the listener holds: jobs running plus messages received and waiting for a slot;
  // and how many it may pull ahead of its free slots (jobs of 5 ms against a round trip
  // under a millisecond: a few at most).
  let maxHeld = 0;
  let maxAhead = 0;
  const sampler = setInterval(() => {
    const { actors } = conn.health();
    const held = Object.values(actors).reduce((n, a) => n + a.running + a.held, 0);
    maxHeld = Math.max(maxHeld, held);
    maxAhead = Math.max(maxAhead, Object.values(actors).reduce((n, a) => n + a.ahead, 0));
  }, 1);
  await conn.listen({ burst: true, maxJobs: 5, logger: quiet });
  clearInterval(sampler);
  await events.close();
  const a1 = await jsm.consumers.info(e1.streamName, "lim-a");
  const b1 = await jsm.consumers.info(e2.streamName, "lim-b");
  assert.equal(a1.num_pending + b1.num_pending, 0, "everything was handled");
  assert.ok(peak.a <= 3, `actor a ran ${peak.a} at once`);
  assert.ok(peak.b <= 4, `actor b ran ${peak.b} at once`);
  assert.ok(peak.all <= 5, `${peak.all} jobs at once over the global limit`);
  assert.equal(peak.all, 5, "the global limit was reached");
  // Received-but-unsettled never exceeds the slots, plus one waiting message per actor,
  // plus what was pulled ahead.
  assert.ok(maxAhead <= AHEAD_PER_SLOT * (3 + 4), `${maxAhead} pulled ahead`);
  assert.ok(maxHeld <= 5 + 2 + maxAhead, `${maxHeld} messages held (${maxAhead} ahead)`);
  assert.ok(maxHeld >= 5, "the sampler saw the listener busy");
});

test("Actors.listen pulls ahead for short jobs only, never running more than maxJobs", async () => {
  await using server = await startNatsServer();
  const quick = new Event(uniqueName(), v.number());
  const slow = new Event(uniqueName(), v.number());
  const running = { quick: 0, slow: 0 };
  const peak = { quick: 0, slow: 0 };
  const handler = (key: "quick" | "slow", ms: number) => async () => {
    running[key] += 1;
    peak[key] = Math.max(peak[key], running[key]);
    if (ms > 0) await sleep(ms);
    else await undefined;
    running[key] -= 1;
  };
  const a = new Actor("ahead-quick", quick, handler("quick", 0), { maxJobs: 4 });
  const b = new Actor("ahead-slow", slow, handler("slow", 150), { maxJobs: 4 });
  const events = await new Events(quick, slow).connect(server.url);
  await events.register();
  await using conn = await new Actors(a, b).connect(server.url);
  await conn.register();
  for (let i = 0; i < 2000; i++) events.emit(quick, i);
  for (let i = 0; i < 24; i++) events.emit(slow, i);
  await events.connection.flush();
  await untilStored(await jetstreamManager(events.connection), {
    [quick.streamName]: 2000,
    [slow.streamName]: 24,
  });
  const seen = { quickAhead: 0, slowAhead: 0, slowHeld: 0 };
  const sampler = setInterval(() => {
    const { actors } = conn.health();
    const q = actors["ahead-quick"];
    const s = actors["ahead-slow"];
    if (!q || !s) return;
    seen.quickAhead = Math.max(seen.quickAhead, q.ahead);
    seen.slowAhead = Math.max(seen.slowAhead, s.ahead);
    seen.slowHeld = Math.max(seen.slowHeld, s.running + s.held + s.outstanding);
  }, 1);
  await conn.listen({ burst: true, maxJobs: 16, logger: quiet });
  clearInterval(sampler);
  await events.close();
  const jsm = await jetstreamManager(conn.connection);
  for (const [e, name] of [[quick, "ahead-quick"], [slow, "ahead-slow"]] as const) {
    const info = await settledInfo(jsm, e.streamName, name);
    assert.equal(info.num_pending + info.num_ack_pending, 0, `${name} handled everything`);
  }
  assert.ok(peak.quick <= 4 && peak.slow <= 4, `ran ${peak.quick} and ${peak.slow} at once`);
  assert.equal(peak.slow, 4);
  // No-op jobs finish many times per round trip: the quick actor asks ahead (within its cap).
  assert.ok(
    seen.quickAhead > 0 && seen.quickAhead <= AHEAD_PER_SLOT * 4,
    `quick ahead ${seen.quickAhead}`,
  );
  // Jobs of 150 ms never justify it: the slow actor holds no more than its slots.
  assert.equal(seen.slowAhead, 0);
  assert.ok(seen.slowHeld <= 4, `the slow actor held ${seen.slowHeld}`);
});

test("Actors.listen stops pulling ahead when its jobs get stuck", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.number());
  let quick = 0;
  const a = new Actor("stuck", e, async (n) => {
    if (n < 500) quick++;
    else await sleep(1500); // a dependency hangs: every job from here on takes 1.5 s
  }, { maxJobs: 4 });
  const events = await new Events(e).connect(server.url);
  await events.register();
  await using conn = await new Actors(a).connect(server.url);
  await conn.register();
  for (let i = 0; i < 500; i++) events.emit(e, i);
  await events.connection.flush();
  const controller = new AbortController();
  const listening = conn.listen({ signal: controller.signal, logger: quiet, shutdownGrace: 0 });
  await until(() => quick === 500, 10_000, "the quick jobs");
  const aheadWhenQuick = conn.health().actors.stuck!.ahead;
  for (let i = 500; i < 600; i++) events.emit(e, i);
  await events.connection.flush();
  await until(() => conn.health().actors.stuck!.running === 4, 5_000, "the stuck jobs");
  await sleep(300);
  const stuck = conn.health().actors.stuck;
  controller.abort();
  await listening;
  await events.close();
  assert.ok(aheadWhenQuick > 0, `ahead ${aheadWhenQuick} with quick jobs`);
  assert.equal(stuck?.ahead, 0, "no more pulled ahead while every job hangs");
  // What it already had in hand, or asked for while jobs were quick, stays bounded (it
  // is pulsed, and given back on shutdown).
  assert.ok(stuck.held + stuck.outstanding <= AHEAD_PER_SLOT * 4, JSON.stringify(stuck));
});

test("Actors.listen pulls ahead no more than its byte budget of large messages", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.string());
  let handled = 0;
  let maxAhead = 0;
  let maxHeld = 0;
  const sample = () => {
    const { large } = conn.health().actors; // called once `conn` is set
    if (!large) return;
    maxAhead = Math.max(maxAhead, large.ahead);
    maxHeld = Math.max(maxHeld, large.held + large.outstanding);
  };
  // Sampled in every job too: a loaded machine may run the whole backlog between two
  // ticks of the interval.
  // deno-lint-ignore require-await
  const a = new Actor("large", e, async () => void (sample(), handled++), { maxJobs: 4 });
  const events = await new Events(e).connect(server.url);
  await events.register();
  await using conn = await new Actors(a).connect(server.url);
  await conn.register();
  const size = 600 * 1024;
  const payload = "x".repeat(size);
  for (let i = 0; i < 60; i++) await events.emit(e, payload, { sync: true });
  const sampler = setInterval(sample, 1);
  await conn.listen({ burst: true, logger: quiet });
  clearInterval(sampler);
  await events.close();
  assert.equal(handled, 60);
  // Quick jobs would justify up to 16 per slot; 8 MiB of 600 KB payloads is 13.
  const budget = Math.floor(MAX_AHEAD_BYTES / (size + 2));
  // Whether it pulled ahead at all depends on the machine's timing (see the PullPlan test
  // below for the cap itself); it never pulled beyond the budget.
  assert.ok(maxAhead <= budget, `ahead ${maxAhead}, budget ${budget}`);
  assert.ok(maxHeld <= 4 + budget, `held ${maxHeld}`);
});

test("PullPlan caps pull-ahead by slots, messages and the byte budget of the average payload", () => {
  const plan = new PullPlan(true);
  assert.equal(plan.ahead(10, 4, 0), 0, "nothing before a job was timed");
  plan.ended(0.01, performance.now());
  assert.equal(plan.ahead(Number.NaN, 4, 0), 0, "nothing before a round trip was measured");
  assert.equal(plan.ahead(10, 4, 0), AHEAD_PER_SLOT * 4, "quick jobs: the per-slot cap");
  assert.equal(plan.ahead(10, 1000, 0), MAX_AHEAD, "many slots: the message cap");
  plan.received(600 * 1024);
  assert.equal(plan.ahead(10, 4, 0), Math.floor(MAX_AHEAD_BYTES / (600 * 1024)));
  plan.ended(1000, performance.now());
  plan.ended(1000, performance.now());
  assert.ok(plan.ahead(10, 4, 0) < 4 * 10 / 200, "long jobs: none");
  assert.equal(new PullPlan(false).ahead(10, 4, 0), 0, "pullAhead: false");
});

test("Actors.listen with pullAhead: false holds no more messages than free slots", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.number());
  let handled = 0;
  // deno-lint-ignore require-await
  const a = new Actor("strict", e, async () => void handled++, { maxJobs: 4 });
  const events = await new Events(e).connect(server.url);
  await events.register();
  await using conn = await new Actors(a).connect(server.url);
  await conn.register();
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    conn.listen({ burst: true, pullAhead: "no" as any }),
    /Invalid listen option: pullAhead must be a boolean, got no/,
  );
  for (let i = 0; i < 1000; i++) events.emit(e, i);
  await events.connection.flush();
  // (Once, in Node's CI, a burst started at once found none of them stored yet.)
  await untilStored(await jetstreamManager(events.connection), { [e.streamName]: 1000 });
  let maxHeld = 0;
  let maxAhead = 0;
  const sampler = setInterval(() => {
    const s = conn.health().actors.strict;
    if (!s) return;
    maxHeld = Math.max(maxHeld, s.running + s.held + s.outstanding);
    maxAhead = Math.max(maxAhead, s.ahead);
  }, 1);
  await conn.listen({ burst: true, pullAhead: false, logger: quiet });
  clearInterval(sampler);
  await events.close();
  assert.equal(handled, 1000);
  assert.equal(maxAhead, 0);
  assert.ok(maxHeld <= 4, `held ${maxHeld}`);
});

test("Actors.listen pulses a message waiting for a slot, so it is not redelivered", async () => {
  await using server = await startNatsServer();
  const busy = new Event(uniqueName(), v.string());
  const waiting = new Event(uniqueName(), v.string());
  const deliveries: number[] = [];
  const a = new Actor("hold-busy", busy, () => sleep(2500), { ackWait: 1000, jobTimeout: 10_000 });
  const b = new Actor("hold-waiting", waiting, (_m, job) => {
    deliveries.push(job.metadata.delivered);
  }, { ackWait: 1000, pulse: false });
  const events = await new Events(busy, waiting).connect(server.url);
  await events.register();
  await using conn = await new Actors(a, b).connect(server.url);
  await conn.register();
  const controller = new AbortController();
  // One global slot: the busy job takes it, the other message waits 2.5 s for it,
  // more than twice its actor's ackWait (and that actor does not pulse its jobs).
  const listening = conn.listen({ signal: controller.signal, maxJobs: 1, logger: quiet });
  await events.emit(busy, "x", { sync: true });
  await until(() => conn.health().running === 1);
  await events.emit(waiting, "y", { sync: true });
  await until(() => deliveries.length === 1, 8000, "the waiting message ran");
  await sleep(1200); // a redelivery would come after ackWait
  controller.abort();
  await listening;
  await events.close();
  assert.deepEqual(deliveries, [1]);
  const jsm = await jetstreamManager(conn.connection);
  const info = await jsm.consumers.info(waiting.streamName, "hold-waiting");
  assert.equal(info.num_redelivered, 0);
});

test("Actors.listen shutdown mid-run loses nothing and leaves no ack pending", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.number());
  const done = new Set<number>();
  let aborted = 0;
  const a = new Actor("stopper", e, async (n, job) => {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, n % 5 === 0 ? 60_000 : 20);
      job.signal.addEventListener("abort", () => {
        clearTimeout(t);
        aborted += 1;
        reject(job.signal.reason);
      });
    });
    done.add(n);
  }, { maxJobs: 8, jobTimeout: 120_000, ackWait: 60_000 });
  await using ctx = await setup(server.url, e, a);
  for (let i = 0; i < 100; i++) await ctx.events.emit(e, i);
  const controller = new AbortController();
  const listening = ctx.conn.listen({
    signal: controller.signal,
    shutdownGrace: 200,
    logger: quiet,
  });
  await until(() => done.size >= 20);
  controller.abort();
  await listening;
  assert.ok(aborted > 0, "long jobs were aborted after the grace period");
  // Aborted jobs were naked, not left to ackWait (60 s): a new listener gets every
  // unhandled message at once. (The server counts a naked message as ack-pending until
  // it is redelivered, so num_ack_pending cannot tell.)
  const started = Date.now();
  const rest = new Actor("stopper", e, (n) => void done.add(n), { ackWait: 60_000 });
  await using again = await new Actors(rest).connect(server.url);
  await again.listen({ burst: true, logger: quiet });
  assert.equal(done.size, 100, "every message was handled once the new listener ran");
  assert.ok(Date.now() - started < 10_000, "the aborted jobs came back before ackWait");
  const state = await consumerState(ctx.jsm, e, "stopper");
  assert.deepEqual(state, { pending: 0, ackPending: 0, redelivered: 0 });
});

test("Actors.listen terminates a message that cannot be decoded, without retrying", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.object({ n: v.number() }));
  const handled: number[] = [];
  const failures: { message: unknown; error: unknown }[] = [];
  const a = new Actor("decoder", e, (m) => void handled.push(m.n), {
    retryDelay: [10],
    middlewares: [{ onFailure: (c) => void failures.push({ message: c.message, error: c.error }) }],
  });
  await using ctx = await setup(server.url, e, a);
  const js = (await import("@nats-io/jetstream")).jetstream(ctx.events.connection);
  await js.publish(e.name, new TextEncoder().encode("{not json"));
  await js.publish(e.name, new TextEncoder().encode('{"n":"not a number"}'));
  await ctx.events.emit(e, { n: 1 }, { sync: true });
  const lines: string[] = [];
  await ctx.conn.listen({ burst: true, logger: recordingLogger(lines) });
  assert.deepEqual(handled, [1]);
  assert.equal(failures.length, 2);
  assert.ok(failures.every((f) => f.message === undefined));
  // Both arrive in one batch and decode at once, so the order of their failures is not fixed
  // (under Bun on nats-server 2.15 the schema failure came first): compared as a set.
  const errors = failures.map((f) => String(f.error)).sort();
  assert.match(errors[0]!, /Serializer "json" failed/);
  assert.match(errors[1]!, /Invalid message of event/);
  assert.equal(lines.filter((l) => /cannot decode/.test(l)).length, 2);
  const state = await consumerState(ctx.jsm, e, "decoder");
  assert.deepEqual(state, { pending: 0, ackPending: 0, redelivered: 0 });
});

test("Actors.listen maxPolls returns after that many pull requests", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.number());
  const seen: number[] = [];
  const a = new Actor("polls", e, (n) => void seen.push(n), { maxJobs: 2 });
  await using ctx = await setup(server.url, e, a);
  for (let i = 0; i < 10; i++) await ctx.events.emit(e, i);
  await ctx.events.connection.flush();
  await ctx.conn.listen({ maxPolls: 1, batch: 2, logger: quiet });
  assert.equal(seen.length, 2);
});

test("Actors.listen keeps running when a middleware hook throws", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName(), v.number());
  const seen: number[] = [];
  const a = new Actor("hooked", e, (n) => void seen.push(n), {
    middlewares: [{
      onStart() {
        throw new Error("hook broke");
      },
      onSuccess: () => Promise.reject(new Error("async hook broke")),
    }],
  });
  await using ctx = await setup(server.url, e, a);
  for (let i = 0; i < 5; i++) await ctx.events.emit(e, i, { sync: true });
  const lines: string[] = [];
  await ctx.conn.listen({ burst: true, logger: recordingLogger(lines) });
  assert.equal(seen.length, 5);
  assert.equal(lines.filter((l) => /middleware onStart/.test(l)).length, 5);
  await until(() => lines.filter((l) => /middleware onSuccess/.test(l)).length === 5);
  assert.equal((await consumerState(ctx.jsm, e, "hooked")).ackPending, 0);
});
