/**
 * End-to-end consume throughput, walnats against raw nats.js in one run, on one
 * nats-server started here, in two shapes: *backlog* (N messages of 100 bytes already in
 * the stream when consuming starts) and *live* (the consumer runs while the same process
 * emits the N messages, 512 sync emits in flight).
 *
 * 1. one actor, a no-op async handler, `listen()` with default options (and again with
 *    256 job slots);
 * 2. raw nats.js at its best: `consumer.consume({ max_messages })` in its callback form and
 *    its async-iterator form, `max_messages` 100, 500, 1,000 and 2,000; the raw handler
 *    decodes and validates each message as walnats does (`m.json()` and the same valibot
 *    schema), then awaits the same no-op async handler and acks. The fastest of these eight
 *    is the baseline of its shape, so a ratio measures walnats' own overhead;
 * 3. four actors on four events in one listener, `maxJobs` 16, mixed priorities (backlog).
 *
 * Each line also gives the process's CPU time (user + system, all its threads) per message
 * over the timed span, the median of the rounds; in the live shape it includes the emitter,
 * which runs in the same process. The nats-server runs in its own process.
 *
 * A run is timed from the start of consuming (walnats: `listen()` is called; raw:
 * `consumers.get()` is called, the lookup `consume()` needs) to the end of the last
 * message's handler (raw: its `ack()`); neither side's shutdown is timed (`listen()`
 * returning after its drain; `close()` of the raw consumer).
 *
 * The run has two parts. First the raw forms are timed once per round for three rounds
 * (`--select`), and the one with the highest median is the baseline of its shape. Then
 * that form and the walnats cases run once per round for eleven new rounds (`--rounds`),
 * the raw form first in even rounds and last in odd ones, and each walnats case's ratio is
 * the median of its ratios to the raw run of the same round (drift of the machine hits
 * both sides of a ratio alike). The choosing rounds are not reused: the highest of eight
 * noisy medians overstates the form it picks, by more the noisier the machine. Each run
 * ends by checking that its consumer has nothing pending and nothing waiting for an ack.
 *
 *     deno run -A bench/consume_bench.ts [--smoke] [--messages 50000] [--select 3] [--rounds 11]
 *     bun bench/consume_bench.ts [--smoke]
 *
 * @module
 */
import process from "node:process";
import * as v from "valibot";
import { AckPolicy, jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "../src/connection.ts";
import { startNatsServer } from "../testing.ts";
import { countFlag, SMOKE } from "./_args.ts";
import { Actor, Actors, Event, Events, type Logger, Priority } from "../mod.ts";

const N = countFlag("--messages", SMOKE ? 2_000 : 50_000);
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

/** The process's CPU time (user + system) over the timed span of the last run, µs per message. */
let cpuPerMessage = Number.NaN;
let cpuStart: NodeJS.CpuUsage | undefined;

/** A run's timed span starts: `performance.now()`, and the CPU time from here. */
function startClock(): number {
  cpuStart = process.cpuUsage();
  return performance.now();
}

/** A run's timed span ends after `count` messages: `performance.now()`. */
function stopClock(count: number): number {
  const used = process.cpuUsage(cpuStart);
  cpuPerMessage = (used.user + used.system) / count;
  return performance.now();
}

async function walnatsOne(url: string, shape: Shape, maxJobs?: number): Promise<number> {
  const event = new Event(`bench-one-${++round}`, schema);
  let seen = 0;
  let last = 0;
  const stop = new AbortController();
  // deno-lint-ignore require-await
  const actor = new Actor("bench", event, async () => {
    if (++seen === N) {
      last = stopClock(N);
      stop.abort();
    }
  }, maxJobs === undefined ? {} : { maxJobs });
  await using conn = await new Actors(actor).connect(url);
  await conn.register();
  if (shape === "backlog") await fill(conn.connection, event, N);
  const start = startClock();
  const filling = shape === "live" ? fill(conn.connection, event, N) : Promise.resolve();
  await conn.listen({
    signal: stop.signal,
    logger: quiet,
    ...(maxJobs === undefined ? {} : { maxJobs }),
  });
  const rate = N / ((last - start) / 1000);
  await filling;
  await assertDrained(conn.connection, event.streamName, "bench");
  return rate;
}

/** How the raw nats.js consumer takes its messages: the async iterator or a callback. */
type RawForm = "iterator" | "callback";
/** Messages already in the stream (backlog), or emitted while the consumer runs (live). */
type Shape = "backlog" | "live";

/**
 * Raw nats.js at its best: `consume()` with `max_messages`, each message decoded and
 * validated with the same schema as walnats does (`m.json()` + valibot), a no-op async
 * handler, then `ack()`. The callback form starts every handler at once (no job limit).
 */
async function rawConsume(
  url: string,
  form: RawForm,
  maxMessages: number,
  shape: Shape,
): Promise<number> {
  const event = new Event(`bench-raw-${++round}`, schema);
  const nc = await connect(url);
  try {
    const jsm = await jetstreamManager(nc);
    await new Events(event).connect(nc).then((e) => e.register());
    await jsm.consumers.add(event.streamName, {
      durable_name: "raw",
      ack_policy: AckPolicy.Explicit,
      filter_subject: event.name,
    });
    const js = jetstream(nc);
    if (shape === "backlog") await fill(nc, event, N);
    const start = startClock();
    const consumer = await js.consumers.get(event.streamName, "raw");
    const handler = async (_message: v.InferOutput<typeof schema>) => {};
    let seen = 0;
    let last = 0;
    let done!: () => void;
    const finished = new Promise<void>((resolve) => done = resolve);
    const handle = (m: JsMsg) => {
      const result = v.safeParse(schema, m.json());
      if (!result.success) throw new Error("invalid message in the bench stream");
      handler(result.output).then(() => {
        m.ack();
        if (++seen === N) {
          last = stopClock(N);
          done();
        }
      });
    };
    const filling = shape === "live" ? fill(nc, event, N) : Promise.resolve();
    const messages = form === "callback"
      ? await consumer.consume({ max_messages: maxMessages, callback: handle })
      : await consumer.consume({ max_messages: maxMessages });
    if (form === "iterator") {
      for await (const m of messages) {
        const result = v.safeParse(schema, m.json());
        if (!result.success) throw new Error("invalid message in the bench stream");
        await handler(result.output);
        m.ack();
        if (++seen === N) {
          last = stopClock(N);
          break;
        }
      }
    } else {
      await finished;
    }
    const rate = N / ((last - start) / 1000);
    await filling;
    await messages.close();
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
  let last = 0;
  const stop = new AbortController();
  const actors = events.map((e, i) =>
    // deno-lint-ignore require-await
    new Actor("bench", e, async () => {
      if (++seen === per * 4) {
        last = stopClock(per * 4);
        stop.abort();
      }
    }, { priority: priorities[i] })
  );
  await using conn = await new Actors(...actors).connect(url);
  await conn.register();
  for (const e of events) await fill(conn.connection, e, per);
  const start = startClock();
  await conn.listen({ signal: stop.signal, maxJobs: 16, logger: quiet });
  const rate = (per * 4) / ((last - start) / 1000);
  for (const e of events) await assertDrained(conn.connection, e.streamName, "bench");
  return rate;
}

const SELECT = countFlag("--select", SMOKE ? 1 : 3);
const ROUNDS = countFlag("--rounds", SMOKE ? 1 : 11);
await using server = await startNatsServer();
const fmt = (x: number) => Math.round(x).toLocaleString("en-US").padStart(8);
console.log(
  `${runtime}${SMOKE ? " (smoke)" : ""}: ${N} messages of 100 bytes, messages/s; raw forms ` +
    `chosen over ${SELECT} rounds, then measured against walnats in ${ROUNDS} new rounds`,
);
/** Rates by case, one per run. */
const runs: Record<string, number[]> = {};
/** CPU µs per message of each run, by case. */
const cpu: Record<string, number[]> = {};
async function measure(name: string, run: () => Promise<number>): Promise<number> {
  const rate = await run();
  (runs[name] ??= []).push(rate);
  (cpu[name] ??= []).push(cpuPerMessage);
  return rate;
}
const middle = (xs: number[] | undefined) => {
  const sorted = (xs ?? []).slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};
const median = (name: string) => middle(runs[name]);
/** The median CPU time per message of a case, µs. */
const cpuOf = (name: string) => middle(cpu[name]).toFixed(1).padStart(5);
const SHAPES: Shape[] = ["backlog", "live"];
const RAW: [RawForm, number][] = (["callback", "iterator"] as const).flatMap((form) =>
  (SMOKE ? [500] : [100, 500, 1000, 2000]).map((max) => [form, max] as [RawForm, number])
);
const rawName = (shape: Shape, [form, max]: [RawForm, number]) => `${shape} raw ${form} ${max}`;

// 1. Which raw form is fastest: every form once per round, in both shapes.
for (let r = 0; r < SELECT; r++) {
  for (const shape of SHAPES) {
    for (const raw of RAW) {
      await measure(`select ${rawName(shape, raw)}`, () => rawConsume(server.url, ...raw, shape));
    }
  }
}
const best = Object.fromEntries(SHAPES.map((shape) => [
  shape,
  RAW.slice().sort((a, b) =>
    median(`select ${rawName(shape, b)}`) - median(`select ${rawName(shape, a)}`)
  )[0]!,
])) as Record<Shape, [RawForm, number]>;

// 2. That form against walnats, in new rounds: the rates of the choosing rounds are the
// highest of eight noisy medians, an estimate biased upwards, so they are not reused. Each
// round runs every case once, the raw form first in even rounds and last in odd ones, and
// a walnats case's ratio is the median of its per-round ratios to the raw run of that round.
const ONE = "walnats 1 actor, defaults";
const WIDE = "walnats 1 actor, maxJobs 256";
const FOUR = "walnats 4 actors, maxJobs 16, mixed";
/** The walnats cases: name (printed), shape, run. */
const WALNATS: [string, Shape, () => Promise<number>][] = [
  [ONE, "backlog", () => walnatsOne(server.url, "backlog")],
  [WIDE, "backlog", () => walnatsOne(server.url, "backlog", 256)],
  [FOUR, "backlog", () => walnatsFour(server.url)],
  [ONE, "live", () => walnatsOne(server.url, "live")],
  [WIDE, "live", () => walnatsOne(server.url, "live", 256)],
];
/** A walnats case's key among the runs: its shape and name. */
const key = (shape: Shape, name: string) => `${shape} ${name}`;
const ratios: Record<string, number[]> = {};
for (let r = 0; r < ROUNDS; r++) {
  for (const shape of SHAPES) {
    const ours = WALNATS.filter(([, s]) => s === shape);
    const raw = () => measure(`${shape} raw`, () => rawConsume(server.url, ...best[shape], shape));
    const rates: Record<string, number> = {};
    let rawRate = r % 2 === 0 ? await raw() : Number.NaN;
    for (const [name, , run] of ours) rates[name] = await measure(key(shape, name), run);
    if (r % 2 === 1) rawRate = await raw();
    for (const [name] of ours) (ratios[key(shape, name)] ??= []).push(rates[name]! / rawRate);
  }
}

for (const shape of SHAPES) {
  console.log(`${shape}, choosing the raw form (median of ${SELECT}):`);
  for (const raw of RAW) {
    const name = `select ${rawName(shape, raw)}`;
    console.log(
      `  raw nats.js consume() ${raw[0].padEnd(8)} max_messages=${String(raw[1]).padEnd(5)} ${
        fmt(median(name))
      }  ${cpuOf(name)} µs CPU/msg`,
    );
  }
  console.log(`${shape}, measured (median of ${ROUNDS}; ratio: median of per-round ratios):`);
  const line = (label: string, name: string, ratio: string) =>
    console.log(
      `  ${label.padEnd(46)} ${fmt(median(name))}  ${cpuOf(name)} µs CPU/msg  ${ratio}`,
    );
  line(`raw best (${best[shape].join(" ")})`, `${shape} raw`, "1.00× raw");
  for (const [name, s] of WALNATS) {
    if (s !== shape) continue;
    const all = ratios[key(shape, name)]!;
    const rounds = all.map((x) => x.toFixed(2)).join(" ");
    line(name, key(shape, name), `${middle(all).toFixed(2)}× raw  (rounds: ${rounds})`);
  }
}
