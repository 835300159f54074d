import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import * as v from "valibot";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsServer } from "../../testing.ts";
import {
  Actor,
  Actors,
  bytes,
  Event,
  Events,
  type FailureContext,
  type ListenOptions,
  type Logger,
  RetryLaterError,
  typed,
  UnrecoverableError,
  WorkerCrashError,
  workerHandler,
  workerModule,
} from "../../mod.ts";
import { aliveWorkers } from "../../src/actors/workers/worker_pool.ts";
import { checksum, type Place } from "./_worker_jobs.ts";
import { settledInfo, sourceUrl, uniqueName, until } from "../_helpers.ts";

type Jobs = typeof import("./_worker_jobs.ts");
const jobsUrl = sourceUrl("./_worker_jobs.ts", import.meta.url);
const jobs = workerModule<Jobs>(jobsUrl);
const quiet: Logger = { error() {}, warn() {}, info() {} };
const isDeno = "Deno" in globalThis;
type Answer = { attempt: number } & Place;

/** Publisher and a listener running until disposed (which stops it and checks it ended). */
async function listening<T, R>(
  url: string,
  event: Event<T, R>,
  actors: Actor<T, R>[],
  options: ListenOptions = {},
) {
  const events = await new Events(event as Event<unknown, unknown>).connect(url);
  await events.register();
  const conn = await new Actors(...actors).connect(url);
  await conn.register();
  const controller = new AbortController();
  const done = conn.listen({
    logger: quiet,
    shutdownGrace: 200,
    ...options,
    signal: controller.signal,
  });
  return {
    events,
    conn,
    /** Stop the listener and wait for it. */
    async stop() {
      controller.abort();
      await done;
    },
    async [Symbol.asyncDispose]() {
      controller.abort();
      await done;
      await conn.close();
      await events.close();
    },
  };
}

function failures(into: FailureContext[]) {
  return { onFailure: (ctx: FailureContext) => void into.push(ctx) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("Actor rejects a plain function with executeIn thread or process, naming the actor", () => {
  const e = new Event("thing-happened", v.string());
  for (const executeIn of ["thread", "process"] as const) {
    assert.throws(
      () => new Actor("resize-image", e, () => {}, { executeIn }),
      (err: Error) => {
        assert.ok(err instanceof TypeError);
        assert.match(err.message, /Invalid handler of actor "resize-image"/);
        assert.match(err.message, new RegExp(`executeIn "${executeIn}" needs a worker handler`));
        return true;
      },
    );
  }
  // A worker handler is accepted everywhere, "main" included.
  for (const executeIn of ["main", "thread", "process"] as const) {
    const a = new Actor("resize-image", e, jobs.handler("crashOnFirst"), { executeIn });
    assert.equal(a.executeIn, executeIn);
  }
});

test("workerHandler checks its URL and name, and types flow from the export", () => {
  assert.throws(
    () => workerHandler<Jobs, "hash">("./_worker_jobs.ts", "hash"),
    /expected an absolute URL/,
  );
  assert.throws(() => workerModule<Jobs>("jobs.ts"), /Invalid worker module "jobs.ts"/);
  assert.throws(() => workerHandler<Jobs, never>(jobsUrl, "" as never), /non-empty string/);
  const h = workerHandler<Jobs, "hash">(jobsUrl.href, "hash");
  assert.deepEqual({ module: h.module, name: h.name }, { module: jobsUrl.href, name: "hash" });
  assert.ok(Object.isFrozen(h));

  const hashed = new Event("hash-requested", v.object({ text: v.string(), rounds: v.number() }))
    .withResponse(typed<{ sum: number; attempt: number } & Place>());
  new Actor("hash", hashed, jobs.handler("hash"), { executeIn: "thread" });
  const strings = new Event("strings", v.string());
  // @ts-expect-error hash wants { text, rounds }, the event carries strings
  new Actor("wrong-message", strings, jobs.handler("hash"), { executeIn: "thread" });
  const counted = new Event("counted", v.string()).withResponse(v.number());
  // @ts-expect-error pollSignal returns a string, the event's response is a number
  new Actor("wrong-response", counted, jobs.handler("pollSignal"), { executeIn: "thread" });
  // @ts-expect-error notAFunction is not a function export
  jobs.handler("notAFunction");
  // @ts-expect-error no such export
  workerHandler<Jobs, "nope">(jobsUrl, "nope");
});

test("executeIn main imports a worker handler into the listener", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("hash"), v.object({ text: v.string(), rounds: v.number() }))
    .withResponse(typed<{ sum: number; attempt: number } & Place>());
  const a = new Actor("hash-main", e, jobs.handler("hash"));
  await using ctx = await listening(server.url, e, [a]);
  const answer = await ctx.events.request(e, { text: "walnats", rounds: 1000 }, {
    timeout: 10_000,
  });
  assert.equal(answer.sum, checksum("walnats", 1000));
  assert.deepEqual([answer.pid, answer.thread], [process.pid, false]);
  assert.deepEqual(ctx.conn.health().workers, {
    thread: { alive: 0, busy: 0 },
    process: { alive: 0, busy: 0 },
  });
});

for (const executeIn of ["thread", "process"] as const) {
  test(`executeIn ${executeIn} runs CPU-bound handlers in workers, at most max at once`, async () => {
    await using server = await startNatsServer();
    const e = new Event(uniqueName("hash"), v.object({ text: v.string(), rounds: v.number() }))
      .withResponse(typed<{ sum: number; attempt: number } & Place>());
    const a = new Actor("hash", e, jobs.handler("hash"), { executeIn });
    await using ctx = await listening(server.url, e, [a], { maxThreads: 2, maxProcesses: 2 });
    const texts = ["a", "bb", "ccc", "dddd", "eeeee", "ffffff"];
    let most = 0;
    const sampler = setInterval(() => {
      most = Math.max(most, ctx.conn.health().workers[executeIn].alive);
    }, 5);
    const answers = await Promise.all(
      texts.map((text) => ctx.events.request(e, { text, rounds: 200_000 }, { timeout: 20_000 })),
    );
    clearInterval(sampler);
    assert.deepEqual(answers.map((x) => x.sum), texts.map((t) => checksum(t, 200_000)));
    for (const answer of answers) {
      if (executeIn === "thread") {
        assert.deepEqual([answer.pid, answer.thread], [process.pid, true]);
      } else {
        assert.notEqual(answer.pid, process.pid);
      }
    }
    assert.ok(most >= 1 && most <= 2, `workers alive at most: ${most}`);
    const other = executeIn === "thread" ? "process" : "thread";
    assert.equal(ctx.conn.health().workers[other].alive, 0, "the other pool never started");
  });
}

test("executeIn process kills a job that overruns jobTimeout and retries it in a new process", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("spin"), v.string()).withResponse(typed<Answer>());
  const seen: FailureContext[] = [];
  const a = new Actor("spin", e, jobs.handler("spinOnFirst"), {
    executeIn: "process",
    jobTimeout: 500,
    retryDelay: [100],
    middlewares: [failures(seen)],
  });
  await using ctx = await listening(server.url, e, [a], { maxProcesses: 1 });
  // The listener's event loop stays free while the worker spins.
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 20);
  const started = Date.now();
  const answer = await ctx.events.request(e, "go", { timeout: 20_000 });
  clearInterval(ticker);
  assert.equal(answer.attempt, 2);
  assert.notEqual(answer.pid, process.pid);
  assert.equal(seen.length, 1);
  assert.equal((seen[0]?.error as Error).name, "JobTimeoutError");
  assert.ok(ticks >= (Date.now() - started) / 20 / 3, `only ${ticks} ticks`);
  assert.deepEqual(ctx.conn.health().workers.process, { alive: 1, busy: 0 });
  assert.equal(aliveWorkers().process >= 1, true);
});

test("a job in a worker process keeps pulsing, so a job longer than ackWait is not redelivered", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("busy"), v.number()).withResponse(typed<Answer>());
  const a = new Actor("busy", e, jobs.handler("busy"), {
    executeIn: "process",
    ackWait: 1000,
    jobTimeout: 10_000,
  });
  await using ctx = await listening(server.url, e, [a], { maxProcesses: 1 });
  const answer = await ctx.events.request(e, 2500, { timeout: 20_000 });
  assert.equal(answer.attempt, 1);
  const jsm = await jetstreamManager(ctx.conn.connection);
  const info = await settledInfo(jsm, e.streamName, "busy");
  assert.equal(info.num_redelivered, 0);
  assert.equal(info.num_ack_pending, 0);
});

for (const executeIn of ["thread", "process"] as const) {
  for (const how of ["crashOnFirst", "exitOnFirst"] as const) {
    test(`a ${executeIn} worker that dies (${how}) fails only its own job, which is retried`, async () => {
      await using server = await startNatsServer();
      const e = new Event(uniqueName("crash"), v.string()).withResponse(typed<Answer>());
      const n = new Event(uniqueName("nap"), v.number()).withResponse(typed<Answer>());
      const seen: FailureContext[] = [];
      const crash = new Actor("crash", e, jobs.handler(how), {
        executeIn,
        retryDelay: [100],
        jobTimeout: 15_000,
        middlewares: [failures(seen)],
      });
      const nap = new Actor("nap", n, jobs.handler("nap"), { executeIn });
      const events = await new Events(e as Event<unknown, unknown>, n).connect(server.url);
      await events.register();
      await using conn = await new Actors(crash, nap).connect(server.url);
      await conn.register();
      const controller = new AbortController();
      const done = conn.listen({
        logger: quiet,
        maxThreads: 2,
        maxProcesses: 2,
        signal: controller.signal,
      });
      try {
        const napping = events.request(n, 1500, { timeout: 20_000 });
        await until(() => conn.health().workers[executeIn].busy === 1, 10_000, "the nap to start");
        const started = Date.now();
        const answer = await events.request(e, "go", { timeout: 20_000 });
        assert.equal(answer.attempt, 2);
        // Detected at once, not by the job's timeout.
        assert.ok(Date.now() - started < 10_000);
        assert.equal(seen.length, 1);
        assert.ok(seen[0]!.error instanceof WorkerCrashError, String(seen[0]!.error));
        assert.match((seen[0]!.error as Error).message, /crash/);
        assert.equal((seen[0]?.error as WorkerCrashError).worker, executeIn);
        const napped = await napping;
        assert.equal(napped.attempt, 1, "the other worker's job was not disturbed");
      } finally {
        controller.abort();
        await done;
        await events.close();
      }
    });
  }
}

test(
  "a worker process that runs out of memory fails only its job",
  { skip: !isDeno && "Bun has no heap limit flag to make this quick and safe" },
  async () => {
    await using server = await startNatsServer();
    const e = new Event(uniqueName("oom"), v.string()).withResponse(typed<Answer>());
    const seen: FailureContext[] = [];
    const a = new Actor("oom", e, jobs.handler("oomOnFirst"), {
      executeIn: "process",
      retryDelay: [100],
      middlewares: [failures(seen)],
    });
    await using ctx = await listening(server.url, e, [a], {
      maxProcesses: 1,
      processArgs: ["--v8-flags=--max-old-space-size=32"],
    });
    const answer = await ctx.events.request(e, "go", { timeout: 30_000 });
    assert.equal(answer.attempt, 2);
    assert.ok(seen[0]!.error instanceof WorkerCrashError, String(seen[0]!.error));
  },
);

for (const handler of ["pollSignal", "awaitAbort"] as const) {
  test(`executeIn thread mirrors the job's signal into the worker (${handler})`, async () => {
    await using server = await startNatsServer();
    const e = new Event(uniqueName("abort"), v.string()).withResponse(v.string());
    const a = new Actor("abort", e, jobs.handler(handler), {
      executeIn: "thread",
      jobTimeout: 300,
      retryDelay: [50],
    });
    const w = new Event(uniqueName("warm-up"), v.number()).withResponse(typed<Answer>());
    const warm = new Actor("warm-up", w, jobs.handler("nap"), { executeIn: "thread" });
    const events = await new Events(e, w).connect(server.url);
    await events.register();
    await using conn = await new Actors(a, warm).connect(server.url);
    await conn.register();
    const controller = new AbortController();
    // One thread: the retry can only run if the first attempt gave its worker back.
    const done = conn.listen({ logger: quiet, maxThreads: 1, signal: controller.signal });
    await using _ = {
      async [Symbol.asyncDispose]() {
        controller.abort();
        await done;
        await events.close();
      },
    };
    // The worker has imported the module (slow under `deno test`, which type-checks it)
    // before the 300 ms of the job start.
    await events.request(w, 0, { timeout: 15_000 });
    const answer = await events.request(e, "go", { timeout: 15_000 });
    assert.equal(
      answer,
      handler === "pollSignal"
        ? 'JobTimeoutError: Job of actor "abort" timed out after 300 ms'
        : "async JobTimeoutError",
    );
    assert.deepEqual(conn.health().workers.thread, { alive: 1, busy: 0 });
  });
}

for (const executeIn of ["thread", "process"] as const) {
  test(`errors thrown in a ${executeIn} worker keep their class and settle as usual`, async () => {
    await using server = await startNatsServer();
    const e = new Event(uniqueName("fail"), v.string());
    const seen: FailureContext[] = [];
    const a = new Actor("fail", e, jobs.handler("fail"), {
      executeIn,
      maxAttempts: 1,
      middlewares: [failures(seen)],
    });
    const u = new Event(uniqueName("uncloneable"), v.string());
    const b = new Actor("uncloneable", u, jobs.handler("uncloneable"), {
      executeIn,
      middlewares: [failures(seen)],
    });
    const events = await new Events(e, u).connect(server.url);
    await events.register();
    await using conn = await new Actors(a, b).connect(server.url);
    await conn.register();
    for (const kind of ["unrecoverable", "later", "range"]) await events.emit(e, kind);
    await events.emit(u, "x");
    const controller = new AbortController();
    const done = conn.listen({ logger: quiet, signal: controller.signal });
    try {
      await until(() => seen.length >= 4, 20_000, "four failures");
      const byMessage = (m: string) => seen.find((c) => c.message === m)!.error as Error;
      assert.ok(byMessage("unrecoverable") instanceof UnrecoverableError);
      const later = byMessage("later");
      assert.ok(later instanceof RetryLaterError);
      assert.equal(later.delay, 1234);
      assert.ok(byMessage("range") instanceof RangeError);
      assert.equal(byMessage("range").message, "failed: range");
      assert.match(byMessage("range").stack ?? "", /_worker_jobs\.[jt]s/, "the worker's stack");
      const clone = byMessage("x");
      assert.ok(clone instanceof UnrecoverableError, String(clone));
      assert.match(clone.message, /"uncloneable" cannot be sent from the worker/);
      const jsm = await jetstreamManager(conn.connection);
      const info = await settledInfo(jsm, u.streamName, "uncloneable");
      assert.equal(info.num_ack_pending, 0, "terminated, not retried");
    } finally {
      controller.abort();
      await done;
      await events.close();
    }
  });
}

test("bytes reach a thread in a buffer of their own", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("bytes"), bytes()).withResponse(
    typed<{ length: number; sum: number; owns: boolean }>(),
  );
  const a = new Actor("bytes", e, jobs.handler("inspectBytes"), { executeIn: "thread" });
  await using ctx = await listening(server.url, e, [a]);
  const data = Uint8Array.from({ length: 1000 }, (_, i) => i % 256);
  const answer = await ctx.events.request(e, data, { timeout: 10_000 });
  assert.deepEqual(answer, { length: 1000, sum: data.reduce((s, b) => s + b, 0), owns: true });
});

test("a worker handler naming a missing export fails its job", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("missing"), v.string());
  const seen: FailureContext[] = [];
  const a = new Actor(
    "missing",
    e,
    workerHandler<Record<string, (m: string) => void>, "notAFunction">(jobsUrl, "notAFunction"),
    { executeIn: "thread", maxAttempts: 1, middlewares: [failures(seen)] },
  );
  await using ctx = await listening(server.url, e, [a]);
  await ctx.events.emit(e, "x");
  await until(() => seen.length === 1, 10_000, "the failure");
  assert.match((seen[0]!.error as Error).message, /has no exported function "notAFunction"/);
});

test("listen starts workers on demand and stops every one of them on shutdown", async () => {
  await using server = await startNatsServer();
  const before = aliveWorkers();
  const et = new Event(uniqueName("nap"), v.number()).withResponse(typed<Answer>());
  const ep = new Event(uniqueName("nap"), v.number()).withResponse(typed<Answer>());
  const t = new Actor("nap-thread", et, jobs.handler("nap"), { executeIn: "thread" });
  const p = new Actor("nap-process", ep, jobs.handler("nap"), { executeIn: "process" });
  const events = await new Events(et, ep).connect(server.url);
  await events.register();
  await using conn = await new Actors(t, p).connect(server.url);
  await conn.register();
  const controller = new AbortController();
  const done = conn.listen({
    logger: quiet,
    maxThreads: 3,
    maxProcesses: 2,
    shutdownGrace: 100,
    signal: controller.signal,
  });
  const requests = new AbortController();
  try {
    assert.deepEqual(conn.health().workers, {
      thread: { alive: 0, busy: 0 },
      process: { alive: 0, busy: 0 },
    });
    const threads = await Promise.all([1, 2, 3].map(() => events.request(et, 50)));
    const processes = await Promise.all([1, 2, 3].map(() => events.request(ep, 50)));
    assert.ok(threads.every((x) => x.thread && x.pid === process.pid));
    const health = conn.health().workers;
    assert.ok(health.thread.alive >= 1 && health.thread.alive <= 3, JSON.stringify(health));
    assert.ok(health.process.alive >= 1 && health.process.alive <= 2, JSON.stringify(health));
    assert.equal(aliveWorkers().process - before.process, health.process.alive);
    const pids = new Set(processes.map((x) => x.pid));
    assert.ok(![...pids].includes(process.pid));
    // Jobs are still running in a thread and a process when the listener stops.
    const long = [et, ep].map((e) =>
      events.request(e, 60_000, { timeout: 60_000, signal: requests.signal }).catch(() => {})
    );
    await until(
      () => conn.health().workers.process.busy === 1 && conn.health().workers.thread.busy === 1,
      10_000,
      "the long jobs",
    );
    controller.abort();
    await done;
    assert.deepEqual(conn.health().workers, {
      thread: { alive: 0, busy: 0 },
      process: { alive: 0, busy: 0 },
    });
    assert.deepEqual(aliveWorkers(), before);
    for (const pid of pids) assert.equal(isAlive(pid), false, `process ${pid} still alive`);
    requests.abort();
    await Promise.all(long);
  } finally {
    controller.abort();
    requests.abort();
    await done;
    await events.close();
  }
});
