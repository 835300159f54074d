import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { createInbox, headers as natsHeaders } from "@nats-io/nats-core";
import { startNatsServer } from "../../testing.ts";
import {
  Actor,
  type ActorHandler,
  Actors,
  Event,
  Events,
  type Job,
  type Logger,
  MAX_PROGRESS_BYTES,
  type ProgressValue,
  workerModule,
} from "../../mod.ts";
import { ACCEPT_PROGRESS, PROGRESS, REPLY } from "../../src/headers.ts";
import { PROGRESS_INTERVAL, PROGRESS_SUBJECT } from "../../src/actors/job_progress.ts";
import { progressJson } from "../../src/progress.ts";
import { sleep, sourceUrl, uniqueName, until } from "../_helpers.ts";

const jobs = workerModule<typeof import("./_progress_jobs.ts")>(
  sourceUrl("./_progress_jobs.ts", import.meta.url),
);
const quiet: Logger = { error() {}, warn() {}, info() {} };
const Steps = v.object({ steps: v.number(), pause: v.number() });
const Done = v.object({ done: v.number() });
type StepsMessage = v.InferOutput<typeof Steps>;
type DoneMessage = v.InferOutput<typeof Done>;

/** A request/response event, a listener of one actor, and a publisher; disposing stops them. */
async function listening(
  url: string,
  handler: ActorHandler<StepsMessage, DoneMessage>,
  executeIn: "main" | "thread" | "process" = "main",
) {
  const event = new Event(uniqueName("progress"), Steps).withResponse(Done);
  const actor = new Actor(uniqueName("worker"), event, handler, { executeIn });
  const events = await new Events(event).connect(url);
  await events.register();
  const conn = await new Actors(actor).connect(url);
  await conn.register();
  const controller = new AbortController();
  const done = conn.listen({ logger: quiet, shutdownGrace: 200, signal: controller.signal });
  return {
    event,
    actor,
    events,
    conn,
    async [Symbol.asyncDispose]() {
      controller.abort();
      await done;
      await conn.close();
      await events.close();
    },
  };
}

async function steps(message: StepsMessage, job: Job): Promise<DoneMessage> {
  for (let i = 1; i <= message.steps; i++) {
    job.progress(i);
    await sleep(message.pause);
  }
  return { done: message.steps };
}

for (const executeIn of ["main", "thread", "process"] as const) {
  test(`request onProgress receives a ${executeIn} job's progress in order, then the answer`, async () => {
    await using server = await startNatsServer();
    const handler = executeIn === "main" ? steps : jobs.handler("steps");
    await using ctx = await listening(server.url, handler, executeIn);
    const seen: (ProgressValue | string)[] = [];
    const answer = await ctx.events.request(
      ctx.event,
      { steps: 4, pause: PROGRESS_INTERVAL + 50 },
      {
        timeout: 20_000,
        onProgress: (value) => seen.push(value),
      },
    );
    seen.push("answer");
    assert.deepEqual(answer, { done: 4 });
    assert.deepEqual(seen, [1, 2, 3, 4, "answer"]);
  });
}

test("job.progress sends at most one value per interval per job, the last one winning", async () => {
  await using server = await startNatsServer();
  await using ctx = await listening(server.url, async (message, job) => {
    for (let i = 1; i <= message.steps; i++) job.progress({ done: i, total: message.steps });
    await sleep(message.pause);
    for (let i = 1; i <= message.steps; i++) job.progress(message.steps + i);
    return { done: message.steps };
  });
  const seen: ProgressValue[] = [];
  await ctx.events.request(ctx.event, { steps: 1000, pause: 50 }, {
    onProgress: (value) => seen.push(value),
  });
  // The first report goes at once; the rest of the first burst is coalesced with the
  // second burst (within one interval), whose last value is sent when the job ends.
  assert.deepEqual(seen, [{ done: 1, total: 1000 }, 2000]);
});

test("job.progress goes only to requests that accept it: the first message on the inbox is the answer", async () => {
  await using server = await startNatsServer();
  await using ctx = await listening(server.url, steps);
  // A caller that takes the first message on its inbox as the response (as the Python
  // walnats does): no Walnats-Accept-Progress header.
  const nc = ctx.events.connection;
  const inbox = createInbox();
  const sub = nc.subscribe(inbox, { max: 1 });
  const h = natsHeaders();
  h.set(REPLY, inbox);
  nc.publish(ctx.event.name, JSON.stringify({ steps: 3, pause: PROGRESS_INTERVAL + 50 }), {
    headers: h,
  });
  for await (const msg of sub) {
    assert.equal(msg.headers?.has(PROGRESS) ?? false, false);
    assert.deepEqual(msg.json(), { done: 3 });
  }
  // And one that accepts it gets the progress there, marked.
  const inbox2 = createInbox();
  const sub2 = nc.subscribe(inbox2, { max: 4 });
  const h2 = natsHeaders();
  h2.set(REPLY, inbox2);
  h2.set(ACCEPT_PROGRESS, "1");
  nc.publish(ctx.event.name, JSON.stringify({ steps: 3, pause: PROGRESS_INTERVAL + 50 }), {
    headers: h2,
  });
  const got: [boolean, unknown][] = [];
  for await (const msg of sub2) got.push([msg.headers?.has(PROGRESS) ?? false, msg.json()]);
  assert.deepEqual(got, [[true, 1], [true, 2], [true, 3], [false, { done: 3 }]]);
});

test("job.progress shows in health() while the job runs, and on the status subject", async () => {
  await using server = await startNatsServer();
  let release = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  await using ctx = await listening(server.url, async (message, job) => {
    job.progress({ step: "download", percent: 40 });
    await gate;
    return { done: message.steps };
  });
  const status: Record<string, unknown>[] = [];
  const sub = ctx.events.connection.subscribe(`${PROGRESS_SUBJECT}.${ctx.actor.name}`, {
    callback: (_err, msg) => void status.push(msg.json()),
  });
  await ctx.events.connection.flush();
  const started = Date.now();
  const answer = ctx.events.request(ctx.event, { steps: 1, pause: 0 }, { timeout: 10_000 });
  await until(() => (ctx.conn.health().actors[ctx.actor.name]?.progress.length ?? 0) > 0);
  const [running] = ctx.conn.health().actors[ctx.actor.name]!.progress;
  assert.ok(running);
  assert.deepEqual(running.progress, { step: "download", percent: 40 });
  assert.equal(running.seq, 1);
  assert.equal(running.attempt, 1);
  assert.ok(running.started >= started - 1000 && running.started <= Date.now());
  assert.ok(running.updated >= running.started);
  release();
  await answer;
  await until(() => status.length === 2, 5000, "two status messages");
  sub.unsubscribe();
  assert.deepEqual(
    status.map(({ started: _s, updated: _u, ...rest }) => rest),
    [
      {
        actor: ctx.actor.name,
        event: ctx.event.name,
        seq: 1,
        attempt: 1,
        progress: { step: "download", percent: 40 },
      },
      {
        actor: ctx.actor.name,
        event: ctx.event.name,
        seq: 1,
        attempt: 1,
        progress: { step: "download", percent: 40 },
        done: true,
      },
    ],
  );
  assert.deepEqual(ctx.conn.health().actors[ctx.actor.name]?.progress, []);
});

test("job.progress refuses values that are not JSON or too large, in workers too", async () => {
  assert.equal(progressJson(42, "a"), "42");
  assert.equal(progressJson({ done: 1 }, "a"), '{"done":1}');
  assert.throws(() => progressJson(Number.NaN, "resize"), /actor "resize": NaN is not a finite/);
  assert.throws(() => progressJson(undefined, "resize"), TypeError);
  assert.throws(() => progressJson(10n, "resize"), /not JSON/);
  const limit = "x".repeat(MAX_PROGRESS_BYTES - 2); // with its quotes: exactly the limit
  assert.equal(progressJson(limit, "a").length, MAX_PROGRESS_BYTES);
  assert.throws(
    () => progressJson(limit + "é", "resize"),
    (error: Error) =>
      error instanceof RangeError &&
      /actor "resize": 1026 bytes of JSON, at most 1024/.test(error.message),
  );
  await using server = await startNatsServer();
  for (const executeIn of ["main", "thread"] as const) {
    await using ctx = await listening(server.url, jobs.handler("tooLarge"), executeIn);
    const seen: ProgressValue[] = [];
    const answer = await ctx.events.request(ctx.event, { steps: 0, pause: 0 }, {
      onProgress: (value) => seen.push(value),
    });
    assert.deepEqual(answer, { done: -1 }, executeIn);
    assert.deepEqual(seen, []);
  }
});

test("request rejects an onProgress that is not a function", async () => {
  await using server = await startNatsServer();
  const event = new Event(uniqueName("progress"), Steps).withResponse(Done);
  await using events = await new Events(event).connect(server.url);
  await assert.rejects(
    events.request(event, { steps: 1, pause: 0 }, { onProgress: 5 as never }),
    /onProgress must be a function, got number/,
  );
});

test("health() carries at most 64 running jobs' progress, in the order they first reported", async () => {
  await using server = await startNatsServer();
  const event = new Event(uniqueName("progress"), Steps);
  let release = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  const actor = new Actor(uniqueName("many"), event, async (message, job) => {
    job.progress(message.steps);
    await gate;
  }, { maxJobs: 80 });
  await using events = await new Events(event).connect(server.url);
  await events.register();
  await using conn = await new Actors(actor).connect(server.url);
  await conn.register();
  for (let i = 1; i <= 70; i++) await events.emit(event, { steps: i, pause: 0 }, { sync: true });
  const controller = new AbortController();
  const done = conn.listen({
    logger: quiet,
    maxJobs: 80,
    heartbeat: false,
    signal: controller.signal,
  });
  try {
    await until(() => conn.health().running === 70, 10_000, "70 running jobs");
    await until(() => (conn.health().actors[actor.name]?.progress.length ?? 0) === 64);
    const progress = conn.health().actors[actor.name]!.progress;
    assert.equal(progress.length, 64);
    assert.deepEqual(progress.map((p) => p.progress), progress.map((p) => p.seq));
  } finally {
    release();
    controller.abort();
    await done;
  }
});

test("request onProgress that throws is logged, and the request still gets its answer", async () => {
  await using server = await startNatsServer();
  await using ctx = await listening(server.url, steps);
  const logged: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void logged.push(args);
  try {
    const answer = await ctx.events.request(ctx.event, { steps: 2, pause: 0 }, {
      onProgress: () => {
        throw new Error("bad callback");
      },
    });
    assert.deepEqual(answer, { done: 2 });
  } finally {
    console.error = original;
  }
  assert.ok(
    logged.some((args) => /onProgress of a request of event "progress-/.test(String(args[0]))),
    JSON.stringify(logged),
  );
});
