/**
 * End-to-end consume throughput, walnats against raw nats.js in one run, on one
 * nats-server started here:
 *
 * 1. one actor, a no-op async handler, `listen()` with default options, over N
 *    messages of 100 bytes already in the stream (and again with 256 job slots);
 * 2. raw nats.js: `consumer.consume({ max_messages })` + `ack()` over the same
 *    messages, for several `max_messages`, the best one taken as the baseline;
 * 3. four actors on four events in one listener, `maxJobs` 16, mixed priorities.
 *
 * Every case runs once per round (three rounds) and the median is printed, so that
 * the machine's drift hits all cases alike. Each run ends by checking that its
 * consumer has nothing pending and nothing waiting for an ack.
 *
 *     deno run -A bench/consume_bench.ts [--smoke] [--messages 50000]
 *     bun bench/consume_bench.ts [--smoke]
 *
 * @module
 */
import process from "node:process";
import * as v from "valibot";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "../src/connection.ts";
import { startNatsServer } from "../testing.ts";
import { Actor, Actors, Event, Events, type Logger, Priority } from "../mod.ts";

const SMOKE = process.argv.includes("--smoke") || process.env.WALNATS_BENCH_SMOKE === "1";
const flag = process.argv.indexOf("--messages");
const N = flag > 0 ? Number(process.argv[flag + 1]) : SMOKE ? 2_000 : 50_000;
const runtime = "Deno" in globalThis ? "Deno" : "Bun" in globalThis ? "Bun" : "?";
const quiet: Logger = { error: console.error, warn: console.warn, info() {} };
const schema = v.object({ id: v.number(), body: v.string() });
const body = "x".repeat(100 - JSON.stringify({ id: 10000, body: "" }).length);

/** Fill the stream of `event` with `n` messages, for the consumer `durable` created first. */
async function fill(nc: NatsConnection, event: Event<v.InferOutput<typeof schema>>, n: number) {
  const events = await new Events(event).connect(nc);
  await events.register();
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const window: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    window.push(events.emit(event, { id: i, body }, { sync: true }));
    if (window.length >= 512) await Promise.all(window.splice(0));
  }
  await Promise.all(window);
  return { js, jsm };
}

/** The server applies acks in its own time: give it up to 5 s to show none outstanding. */
async function assertDrained(nc: NatsConnection, stream: string, consumer: string) {
  const jsm = await jetstreamManager(nc);
  let info = await jsm.consumers.info(stream, consumer);
  for (let i = 0; i < 50 && (info.num_pending !== 0 || info.num_ack_pending !== 0); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    info = await jsm.consumers.info(stream, consumer);
  }
  if (info.num_pending !== 0 || info.num_ack_pending !== 0) {
    throw new Error(
      `${stream}/${consumer}: ${info.num_pending} pending, ${info.num_ack_pending} unacked`,
    );
  }
}

let round = 0;

async function walnatsOne(url: string, maxJobs?: number): Promise<number> {
  const event = new Event(`bench-one-${++round}`, schema);
  let seen = 0;
  const stop = new AbortController();
  // deno-lint-ignore require-await
  const actor = new Actor("bench", event, async () => {
    if (++seen === N) stop.abort();
  }, { maxJobs });
  await using conn = await new Actors(actor).connect(url);
  await conn.register();
  await fill(conn.connection, event, N);
  const start = performance.now();
  await conn.listen({ signal: stop.signal, logger: quiet, maxJobs });
  const rate = N / ((performance.now() - start) / 1000);
  await assertDrained(conn.connection, event.streamName, "bench");
  return rate;
}

async function rawConsume(url: string, maxMessages: number): Promise<number> {
  const event = new Event(`bench-raw-${++round}`, schema);
  const nc = await connect(url);
  try {
    const jsm = await jetstreamManager(nc);
    await new Events(event).connect(nc).then((e) => e.register());
    await jsm.consumers.add(event.streamName, {
      durable_name: "raw",
      ack_policy: AckPolicy.Explicit,
    });
    const { js } = await fill(nc, event, N);
    const consumer = await js.consumers.get(event.streamName, "raw");
    const start = performance.now();
    const messages = await consumer.consume({ max_messages: maxMessages });
    let seen = 0;
    for await (const m of messages) {
      await Promise.resolve(); // the same no-op async "handler"
      m.ack();
      if (++seen === N) break;
    }
    const rate = N / ((performance.now() - start) / 1000);
    await nc.flush();
    await assertDrained(nc, event.streamName, "raw");
    return rate;
  } finally {
    await nc.close();
  }
}

async function walnatsFour(url: string): Promise<number> {
  const priorities = [Priority.HIGH, Priority.NORMAL, Priority.NORMAL, Priority.LOW];
  const events = priorities.map(() => new Event(`bench-four-${++round}`, schema));
  const per = Math.floor(N / 4);
  let seen = 0;
  const stop = new AbortController();
  const actors = events.map((e, i) =>
    // deno-lint-ignore require-await
    new Actor("bench", e, async () => {
      if (++seen === per * 4) stop.abort();
    }, { priority: priorities[i] })
  );
  await using conn = await new Actors(...actors).connect(url);
  await conn.register();
  for (const e of events) await fill(conn.connection, e, per);
  const start = performance.now();
  await conn.listen({ signal: stop.signal, maxJobs: 16, logger: quiet });
  const rate = (per * 4) / ((performance.now() - start) / 1000);
  for (const e of events) await assertDrained(conn.connection, e.streamName, "bench");
  return rate;
}

await using server = await startNatsServer();
const fmt = (x: number) => Math.round(x).toLocaleString("en-US").padStart(8);
const ROUNDS = SMOKE ? 1 : 3;
console.log(
  `${runtime}${SMOKE ? " (smoke)" : ""}: ${N} messages of 100 bytes, messages/s, ` +
    `median of ${ROUNDS} interleaved rounds`,
);
// Every case runs once per round, so that the machine's drift hits them alike.
const runs: Record<string, number[]> = {};
const cases: [string, () => Promise<number>][] = [
  ["raw 100", () => rawConsume(server.url, 100)],
  ["raw 500", () => rawConsume(server.url, 500)],
  ["raw 1000", () => rawConsume(server.url, 1000)],
  ["one", () => walnatsOne(server.url)],
  ["wide", () => walnatsOne(server.url, 256)],
  ["four", () => walnatsFour(server.url)],
];
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, run] of cases) (runs[name] ??= []).push(await run());
}
const median = (name: string) => {
  const sorted = runs[name]!.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const [bestMax, best] = [100, 500, 1000].map((max) => [max, median(`raw ${max}`)] as const)
  .sort((a, b) => b[1] - a[1])[0]!;
for (const max of [100, 500, 1000]) {
  console.log(
    `  raw nats.js consume() max_messages=${String(max).padEnd(5)} ${fmt(median(`raw ${max}`))}`,
  );
}
const line = (label: string, name: string, note = "") =>
  console.log(
    `  ${label.padEnd(37)} ${fmt(median(name))}  ${
      (median(name) / best).toFixed(2)
    }× raw best${note}`,
  );
line("walnats 1 actor, defaults", "one", ` (max_messages=${bestMax})`);
line("walnats 1 actor, maxJobs 256", "wide");
line("walnats 4 actors, maxJobs 16, mixed", "four");
