import { test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { createInbox, headers as natsHeaders, type MsgHdrsImpl } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { startNatsServer } from "../../testing.ts";
import {
  Actor,
  Actors,
  Event,
  Events,
  type Job,
  type ListenOptions,
  type Logger,
  type NatsConnection,
  RequestTimeoutError,
  ResponseError,
  UnrecoverableError,
  ValidationError,
} from "../../mod.ts";
import { ResponseMux } from "../../src/events/request.ts";
import { settledInfo, sleep, uniqueName, until } from "../_helpers.ts";

const quiet: Logger = { error() {}, warn() {}, info() {} };
const Sum = v.object({ a: v.number(), b: v.number() });
const Total = v.object({ sum: v.number() });
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function recordingLogger(lines: string[]): Logger {
  return {
    error: (m) => lines.push(`error ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    info: (m) => lines.push(`info ${m}`),
  };
}

function adder(): Event<{ a: number; b: number }, { sum: number }> {
  return new Event(uniqueName("add"), Sum).withResponse(Total);
}

/**
 * Subscriptions the client holds on a connection. nats.js keeps no public count,
 * so this reads its protocol handler (the same one `nc.stats()` reports from).
 */
function subscriptions(nc: NatsConnection): number {
  return (nc as unknown as { protocol: { subscriptions: { size(): number } } })
    .protocol.subscriptions.size();
}

/** Publisher and listener on their own connections; disposing stops the listener first. */
async function setup<T, R>(
  url: string,
  event: Event<T, R>,
  actors: Actor<T, R>[],
  listen: ListenOptions = {},
) {
  const events = await new Events(event as Event<unknown, unknown>).connect(url);
  await events.register();
  const conn = await new Actors(...actors).connect(url);
  await conn.register();
  const controller = new AbortController();
  const listening = actors.length
    ? conn.listen({ logger: quiet, ...listen, signal: controller.signal })
    : Promise.resolve();
  return {
    events,
    conn,
    jsm: await jetstreamManager(events.connection),
    async [Symbol.asyncDispose]() {
      controller.abort();
      await listening;
      await conn.close();
      await events.close();
    },
  };
}

test("ConnectedEvents.request returns the actor's response, decoded and typed", async () => {
  await using server = await startNatsServer();
  const e = adder();
  const seen: { message: { a: number; b: number }; traceId: string | undefined }[] = [];
  const a = new Actor("adder", e, (m, job: Job) => {
    seen.push({ message: m, traceId: job.traceId });
    return { sum: m.a + m.b };
  });
  await using ctx = await setup(server.url, e, [a]);
  const response: { sum: number } = await ctx.events.request(e, { a: 2, b: 40 });
  assert.deepEqual(response, { sum: 42 });
  // Emit's options reach the actor as they do for emit.
  assert.deepEqual(await ctx.events.request(e, { a: 1, b: 0 }, { traceId: "t-9" }), { sum: 1 });
  assert.deepEqual(seen, [
    { message: { a: 2, b: 40 }, traceId: undefined },
    { message: { a: 1, b: 0 }, traceId: "t-9" },
  ]);
});

test("ConnectedEvents.request honours delay, and a plain event or bad timeout is refused", async () => {
  await using server = await startNatsServer();
  const e = adder();
  const a = new Actor("later", e, (m) => ({ sum: m.a + m.b }));
  await using ctx = await setup(server.url, e, [a]);
  const started = Date.now();
  assert.deepEqual(await ctx.events.request(e, { a: 1, b: 1 }, { delay: 600 }), { sum: 2 });
  assert.ok(Date.now() - started >= 590, `answered after ${Date.now() - started} ms`);

  const plain = new Event(uniqueName(), v.string());
  await using conn = await new Events(plain).connect(server.url);
  await assert.rejects(
    conn.request(plain, "x"),
    (err: Error) =>
      err instanceof TypeError && err.message.includes(`"${plain.name}"`) &&
      /withResponse/.test(err.message),
  );
  for (const timeout of [0, -1, Number.NaN, 2 ** 31]) {
    await assert.rejects(ctx.events.request(e, { a: 1, b: 1 }, { timeout }), RangeError);
  }
});

test("ConnectedEvents.request rejects an invalid message with ValidationError and sends nothing", async () => {
  await using server = await startNatsServer();
  const e = adder();
  await using ctx = await setup(server.url, e, []);
  await ctx.jsm.consumers.add(e.streamName, {
    durable_name: "interest",
    ack_policy: AckPolicy.Explicit,
  });
  await assert.rejects(
    ctx.events.request(e, { a: "one", b: 2 } as unknown as { a: number; b: number }),
    (err: Error) => err instanceof ValidationError && /message of event/.test(err.message),
  );
  await ctx.events.connection.flush();
  assert.equal((await ctx.jsm.streams.info(e.streamName)).state.messages, 0);
});

test("ConnectedEvents.request without an actor rejects with RequestTimeoutError naming event and timeout", async () => {
  await using server = await startNatsServer();
  const e = adder();
  await using ctx = await setup(server.url, e, []);
  const started = Date.now();
  await assert.rejects(ctx.events.request(e, { a: 1, b: 2 }, { timeout: 300 }), (err: Error) => {
    assert.ok(err instanceof RequestTimeoutError, String(err));
    assert.equal(err.name, "RequestTimeoutError");
    assert.equal(err.event, e.name);
    assert.equal(err.timeout, 300);
    assert.equal(err.message, `No response to event "${e.name}" within 300 ms`);
    return true;
  });
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 290 && elapsed < 5_000, `timed out after ${elapsed} ms`);
});

test("ConnectedEvents.request rejects with the signal's reason when aborted", async () => {
  await using server = await startNatsServer();
  const e = adder();
  await using ctx = await setup(server.url, e, []);
  const controller = new AbortController();
  const reason = new Error("the user went away");
  const started = Date.now();
  const pending = ctx.events.request(e, { a: 1, b: 2 }, { signal: controller.signal });
  setTimeout(() => controller.abort(reason), 100);
  await assert.rejects(pending, (err) => err === reason);
  assert.ok(Date.now() - started < 3_000, "rejected at the abort, not at the timeout");
  // An already aborted signal rejects at once, with its reason too.
  await assert.rejects(
    ctx.events.request(e, { a: 1, b: 2 }, { signal: AbortSignal.abort(reason) }),
    (err) => err === reason,
  );
});

test("ConnectedEvents.request aborted before it was sent publishes nothing", async () => {
  await using server = await startNatsServer();
  const e = adder();
  await using ctx = await setup(server.url, e, []);
  await ctx.jsm.consumers.add(e.streamName, {
    durable_name: "interest",
    ack_policy: AckPolicy.Explicit,
  });
  const controller = new AbortController();
  // Validation and encoding are async: abort while they run.
  const pending = ctx.events.request(e, { a: 1, b: 2 }, { signal: controller.signal });
  controller.abort();
  await assert.rejects(pending, (err: Error) => err.name === "AbortError");
  await ctx.events.connection.flush();
  assert.equal((await ctx.jsm.streams.info(e.streamName)).state.messages, 0);
});

test("ConnectedEvents.request answers 1,000 concurrent requests each with its own response", async () => {
  await using server = await startNatsServer();
  const e = new Event(uniqueName("double"), v.number()).withResponse(v.number());
  const a = new Actor("doubler", e, async (n) => {
    await sleep(n % 7);
    return n * 2;
  }, { maxJobs: 200 });
  await using ctx = await setup(server.url, e, [a], { maxJobs: 200 });
  const base = subscriptions(ctx.events.connection);
  const ns = Array.from({ length: 1_000 }, (_, i) => i);
  const answers = await Promise.all(
    ns.map((n) => ctx.events.request(e, n, { timeout: 60_000 })),
  );
  const wrong = ns.filter((n) => answers[n] !== n * 2);
  assert.deepEqual(wrong, [], `${wrong.length} requests got another request's answer`);
  // All of them shared one inbox subscription.
  assert.equal(subscriptions(ctx.events.connection), base + 1);
});

test("ConnectedEvents.request gets the answer of a retry within its timeout", async () => {
  await using server = await startNatsServer();
  const e = adder();
  const attempts: number[] = [];
  const a = new Actor("flaky-adder", e, (m, job) => {
    attempts.push(job.attempt);
    if (job.attempt === 1) throw new Error("transient failure");
    return { sum: m.a + m.b };
  }, { retryDelay: [100] });
  await using ctx = await setup(server.url, e, [a]);
  assert.deepEqual(await ctx.events.request(e, { a: 3, b: 4 }, { timeout: 10_000 }), { sum: 7 });
  assert.deepEqual(attempts, [1, 2]);
});

test("ConnectedEvents.request resolves with the first of several responses", async () => {
  await using server = await startNatsServer();
  const e = adder();
  let slowDone = false;
  const fast = new Actor("fast", e, (m) => ({ sum: m.a + m.b }));
  const slow = new Actor("slow", e, async () => {
    await sleep(300);
    slowDone = true;
    return { sum: -1 };
  });
  await using ctx = await setup(server.url, e, [fast, slow]);
  assert.deepEqual(await ctx.events.request(e, { a: 1, b: 1 }), { sum: 2 });
  await until(() => slowDone, 10_000, "the slow actor");
  await sleep(100); // its late response arrives and is dropped quietly
  assert.deepEqual(await ctx.events.request(e, { a: 2, b: 2 }), { sum: 4 });
});

test("ConnectedEvents.request reports an invalid response as ResponseError at once and the message is terminated", async () => {
  await using server = await startNatsServer();
  const e = adder();
  let calls = 0;
  const lines: string[] = [];
  const a = new Actor("liar", e, () => {
    calls += 1;
    return { sum: "three" } as unknown as { sum: number };
  }, { retryDelay: [50] });
  await using ctx = await setup(server.url, e, [a], { logger: recordingLogger(lines) });
  const started = Date.now();
  await assert.rejects(ctx.events.request(e, { a: 1, b: 2 }, { timeout: 20_000 }), (err: Error) => {
    assert.ok(err instanceof ResponseError, String(err));
    assert.equal(err.name, "ResponseError");
    assert.equal(err.event, e.name);
    assert.match(err.message, new RegExp(`The actor of event "${e.name}" could not respond`));
    assert.match(err.message, /Invalid response of event .*sum/);
    return true;
  });
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 5_000, `rejected after ${elapsed} ms, not at the timeout`);
  await sleep(400); // a retry would have come 50 ms after the first attempt
  assert.equal(calls, 1, "the message was not retried");
  const info = await settledInfo(ctx.jsm, e.streamName, "liar");
  assert.equal(info.num_ack_pending, 0);
  assert.equal(info.num_pending, 0);
  assert.equal(info.num_redelivered, 0);
  assert.ok(
    lines.some((l) => /actor "liar" terminated: invalid response/.test(l)),
    lines.join("\n"),
  );
});

test(
  "ConnectedEvents.request reports a job that failed for good as ResponseError, not a timeout",
  async () => {
    await using server = await startNatsServer();
    const e = adder();
    const a = new Actor("quitter", e, (m) => {
      if (m.a < 0) throw new UnrecoverableError("negative a");
      throw new Error("always fails");
    }, { maxAttempts: 2, retryDelay: [50] });
    await using ctx = await setup(server.url, e, [a]);
    const started = Date.now();
    await assert.rejects(
      ctx.events.request(e, { a: -1, b: 0 }, { timeout: 20_000 }),
      (err: Error) => err instanceof ResponseError && /negative a/.test(err.message),
    );
    await assert.rejects(
      ctx.events.request(e, { a: 1, b: 0 }, { timeout: 20_000 }),
      (err: Error) => err instanceof ResponseError && /always fails/.test(err.message),
    );
    assert.ok(Date.now() - started < 5_000, "rejected when terminated, not at the timeout");
  },
);

test(
  "Actor with a response tells a raw requester that accepts the give-up reply that its message cannot be decoded",
  async () => {
    await using server = await startNatsServer();
    const e = adder();
    const a = new Actor("adder", e, (m) => ({ sum: m.a + m.b }));
    await using _ctx = await setup(server.url, e, [a]);
    await using nc = await connect({ servers: server.url });
    const inbox = createInbox();
    const sub = nc.subscribe(inbox, { max: 1 });
    const h = natsHeaders();
    h.set("Walnats-Reply", inbox);
    h.set("Walnats-Accept-Error", "1");
    await jetstream(nc).publish(e.name, encoder.encode('{"a":"five"}'), { headers: h });
    const timer = setTimeout(() => sub.unsubscribe(), 10_000);
    const reasons: string[] = [];
    for await (const msg of sub) reasons.push(msg.headers?.get("Walnats-Error") ?? "");
    clearTimeout(timer);
    assert.equal(reasons.length, 1, "an answer came");
    assert.match(reasons[0] ?? "", /Invalid message of event/);
  },
);

test("ConnectedEvents.request rejects a response that fails the response schema with ValidationError", async () => {
  await using server = await startNatsServer();
  const e = adder();
  await using ctx = await setup(server.url, e, []);
  await using nc = await connect({ servers: server.url });
  // A responder that skips walnats' own check on the actor side.
  await jetstreamManager(nc).then((jsm) =>
    jsm.consumers.add(e.streamName, { durable_name: "raw", ack_policy: AckPolicy.Explicit })
  );
  const consumer = await jetstream(nc).consumers.get(e.streamName, "raw");
  const responding = consumer.next({ expires: 10_000 }).then((msg) => {
    msg!.ack();
    nc.publish(msg!.headers!.get("Walnats-Reply"), encoder.encode('{"sum":"three"}'));
  });
  await assert.rejects(
    ctx.events.request(e, { a: 1, b: 2 }, { timeout: 10_000 }),
    (err: Error) => err instanceof ValidationError && /Invalid response of event/.test(err.message),
  );
  await responding;
});

test("ConnectedEvents.request is answered by a raw nats.js responder reading Walnats-Reply", async () => {
  await using server = await startNatsServer();
  const e = adder();
  await using ctx = await setup(server.url, e, []);
  await using nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  await jsm.consumers.add(e.streamName, { durable_name: "raw", ack_policy: AckPolicy.Explicit });
  const consumer = await jetstream(nc).consumers.get(e.streamName, "raw");
  const seen: { data: string; headers: string; reply: string; jsReply: string }[] = [];
  const responding = consumer.next({ expires: 10_000 }).then((msg) => {
    assert.ok(msg, "the request reached the stream");
    const reply = msg.headers!.get("Walnats-Reply");
    seen.push({
      data: decoder.decode(msg.data),
      headers: decoder.decode((msg.headers as MsgHdrsImpl).encode()),
      reply,
      jsReply: (msg as unknown as { reply: string }).reply,
    });
    msg.ack();
    const { a, b } = msg.json<{ a: number; b: number }>();
    nc.publish(reply, encoder.encode(JSON.stringify({ sum: a + b })));
  });
  const response = await ctx.events.request(e, { a: 20, b: 22 }, { timeout: 10_000 });
  await responding;
  assert.deepEqual(response, { sum: 42 });
  const { data, headers, reply, jsReply } = seen[0] ?? assert.fail("the request reached no stream");
  assert.equal(data, '{"a":20,"b":22}');
  assert.match(reply, /^_INBOX\.[A-Za-z0-9]+\.[a-z0-9]+$/);
  assert.equal(
    headers,
    `NATS/1.0\r\nWalnats-Reply: ${reply}\r\nWalnats-Accept-Error: 1\r\n\r\n`,
  );
  // JetStream owns the message's own reply subject (the ack): hence the header.
  assert.match(jsReply, /^\$JS\.ACK\./);
  assert.equal((await settledInfo(jsm, e.streamName, "raw")).num_ack_pending, 0);
});

test("Actor with a response answers a raw nats.js requester on its Walnats-Reply inbox", async () => {
  await using server = await startNatsServer();
  const e = adder();
  const a = new Actor("adder", e, (m) => ({ sum: m.a + m.b }));
  await using _ctx = await setup(server.url, e, [a]);
  await using nc = await connect({ servers: server.url });
  const inbox = createInbox();
  const sub = nc.subscribe(inbox, { max: 1 });
  const h = natsHeaders();
  h.set("Walnats-Reply", inbox);
  await jetstream(nc).publish(e.name, encoder.encode('{"a":5,"b":6}'), { headers: h });
  const timer = setTimeout(() => sub.unsubscribe(), 10_000);
  const responses: string[] = [];
  for await (const msg of sub) responses.push(decoder.decode(msg.data));
  clearTimeout(timer);
  assert.deepEqual(responses, ['{"sum":11}']);
});

test("ResponseMux leaves no waiter behind after answers, errors, timeouts and aborts", async () => {
  await using server = await startNatsServer();
  await using nc = await connect({ servers: server.url });
  const e = new Event("leak-check", v.number()).withResponse(v.number());
  const mux = new ResponseMux(nc);
  const base = subscriptions(nc);
  const outcomes: Promise<unknown>[] = [];
  const lateInboxes: string[] = [];
  for (let i = 0; i < 50; i++) {
    const answered = mux.wait(e, { timeout: 10_000 });
    nc.publish(answered.inbox, encoder.encode(String(i)));
    outcomes.push(answered.response.then((r) => assert.equal(r, i)));

    const failed = mux.wait(e, { timeout: 10_000 });
    const h = natsHeaders();
    h.set("Walnats-Error", "no can do");
    nc.publish(failed.inbox, new Uint8Array(0), { headers: h });
    outcomes.push(assert.rejects(failed.response, ResponseError));

    const timedOut = mux.wait(e, { timeout: 20 });
    lateInboxes.push(timedOut.inbox);
    outcomes.push(assert.rejects(timedOut.response, RequestTimeoutError));

    const controller = new AbortController();
    const aborted = mux.wait(e, { timeout: 10_000, signal: controller.signal });
    controller.abort(new Error("stop"));
    outcomes.push(assert.rejects(aborted.response, /stop/));
  }
  assert.equal(subscriptions(nc), base + 1, "one subscription for all waiters");
  await Promise.all(outcomes);
  assert.equal(mux.size, 0);
  // An error header without a reason is still an error, not an empty response.
  const blank = mux.wait(e, { timeout: 10_000 });
  const h = natsHeaders();
  h.set("Walnats-Error", "");
  nc.publish(blank.inbox, new Uint8Array(0), { headers: h });
  await assert.rejects(blank.response, (err: Error) => err instanceof ResponseError);
  // Responses that come after their waiter gave up are dropped.
  for (const inbox of lateInboxes) nc.publish(inbox, encoder.encode("1"));
  await nc.flush();
  assert.equal(mux.size, 0);
  // Closing rejects what still waits and drops the subscription.
  const open = mux.wait(e, { timeout: 10_000 });
  assert.equal(mux.size, 1);
  mux.close(new Error("closing"));
  await assert.rejects(open.response, /closing/);
  assert.equal(mux.size, 0);
  assert.equal(subscriptions(nc), base);
});

test("ConnectedEvents.request keeps one inbox subscription through timeouts and aborts, and close drops it", async () => {
  await using server = await startNatsServer();
  const e = adder();
  const a = new Actor("adder", e, (m) => ({ sum: m.a + m.b }));
  await using _ctx = await setup(server.url, e, [a]);
  await using nc = await connect({ servers: server.url });
  await using conn = await new Events(e).connect(nc);
  const other = adder(); // no stream, no actor: every request times out
  await using silent = await new Events(other).connect(nc);
  const base = subscriptions(nc);
  for (let round = 0; round < 3; round++) {
    const controller = new AbortController();
    const batch = [
      ...Array.from({ length: 50 }, (_, i) => conn.request(e, { a: i, b: 1 }, { timeout: 10_000 })),
      ...Array.from({ length: 20 }, () => silent.request(other, { a: 0, b: 0 }, { timeout: 50 })),
      ...Array.from(
        { length: 20 },
        () => silent.request(other, { a: 0, b: 0 }, { signal: controller.signal }),
      ),
    ];
    controller.abort();
    const results = await Promise.allSettled(batch);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 50);
    assert.equal(
      results.filter((r) => r.status === "rejected" && r.reason instanceof RequestTimeoutError)
        .length,
      20,
    );
    // One inbox subscription per ConnectedEvents, however many requests went through.
    assert.equal(subscriptions(nc), base + 2);
  }
  // A request pending at close is rejected, and the connection (not owned) loses the inbox.
  const pending = silent.request(other, { a: 0, b: 0 }, { timeout: 10_000 });
  await silent.close();
  await assert.rejects(pending, /closed before the response arrived/);
  assert.equal(subscriptions(nc), base + 1);
  await conn.close();
  assert.equal(subscriptions(nc), base);
  assert.equal(nc.isClosed(), false);
});
