/**
 * walnats' own per-message cost, without the network: one `ActorRunner` (the listener's
 * pipeline for one actor: receive → delay check → admission → decode → run → settle) fed
 * with prepared messages, against a loop that does what raw nats.js `consume()` users do
 * with each message (decode the JSON, validate it with the same valibot schema, await the
 * same no-op async handler, ack). Both take the same messages, 200 per event-loop turn
 * (about a socket read's worth), and both acks are no-op `respond()`s; what differs is
 * walnats' stages. Prints the CPU time per message (user + system, whole process) of each,
 * the median of interleaved rounds.
 *
 * This is a measuring aid, not the speed claim: the consume benchmark
 * (`bench/consume_bench.ts`) measures walnats against raw nats.js through a real
 * nats-server. Here the messages are prepared objects (a NATS message's fields and a
 * `respond()` that counts), so that nothing but walnats' own work is timed. A
 * nats-server is started only because the runner holds a connection (its pull requests
 * are never sent: `maxPolls` is 0).
 *
 *     deno run -A bench/pipeline_bench.ts [--smoke] [--messages 400000] [--rounds 7] [--max-jobs 16]
 *     bun bench/pipeline_bench.ts [--smoke]
 *
 * @module
 */
import process from "node:process";
import { setImmediate } from "node:timers";
import * as v from "valibot";
import type { Msg } from "@nats-io/nats-core";
import { startNatsServer } from "../testing.ts";
import { countFlag, SMOKE } from "./_args.ts";
import { connect } from "../src/connection.ts";
import { Actor, Event, type Logger, PrioritySemaphore } from "../mod.ts";
import { ActorRunner } from "../src/actors/runner.ts";

const N = countFlag("--messages", SMOKE ? 10_000 : 400_000);
const ROUNDS = countFlag("--rounds", SMOKE ? 1 : 7);
/** The actor's and the listener's `maxJobs` (16, the default of both). */
const MAX_JOBS = countFlag("--max-jobs", 16);
/** Messages per event-loop turn. */
const TURN = 200;
const runtime = "Deno" in globalThis ? "Deno" : "Bun" in globalThis ? "Bun" : "Node.js";
const schema = v.object({ id: v.number(), body: v.string() });
const quiet: Logger = { error: console.error, warn: console.warn, info() {} };
const payload = new TextEncoder().encode(JSON.stringify({ id: 12345, body: "x".repeat(80) }));

let acks = 0;
/** A delivered JetStream message as the runner reads it: data, no headers, an ack subject. */
function message(i: number): Msg {
  return {
    subject: "bench",
    reply: `$JS.ACK.bench.bench.1.${i + 1}.${i + 1}.1700000000000000000.0`,
    data: payload,
    headers: undefined,
    sid: 1,
    respond() {
      acks++;
      return true;
    },
  } as unknown as Msg;
}
const messages = Array.from({ length: N }, (_, i) => message(i));

/** Hand the messages to `receive`, `TURN` per event-loop turn, then wait for `done`. */
async function feed(receive: (msg: Msg) => void, done: Promise<void>): Promise<void> {
  for (let i = 0; i < N; i += TURN) {
    const end = Math.min(N, i + TURN);
    for (let j = i; j < end; j++) receive(messages[j]!);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await done;
}

function cpu(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / N;
}

await using server = await startNatsServer();
const nc = await connect(server.url);

async function walnats(): Promise<number> {
  const event = new Event("bench", schema);
  let seen = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => done = resolve);
  // deno-lint-ignore require-await
  const actor = new Actor("bench", event, async () => {
    if (++seen === N) done();
  }, { maxJobs: MAX_JOBS });
  const stopping = new AbortController();
  // The listener keeps its actors as Actor<unknown, unknown>, as here.
  const runner: ActorRunner = new ActorRunner(actor as Actor<unknown, unknown>, {
    nc,
    slots: new PrioritySemaphore(MAX_JOBS),
    logger: quiet,
    stopping: stopping.signal,
    heldTotal: () => runner.held,
    changed() {},
    expires: 30_000,
    heartbeat: 5_000,
    noWait: false,
    batch: 1_000,
    pullAhead: true,
    maxPolls: 0,
  });
  acks = 0;
  const start = process.cpuUsage();
  await feed((msg) => runner.receive(msg), finished);
  const result = cpu(start);
  await runner.stop(0);
  if (acks !== N) throw new Error(`walnats acked ${acks} of ${N}`);
  return result;
}

async function raw(): Promise<number> {
  let seen = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => done = resolve);
  const handler = async (_message: v.InferOutput<typeof schema>) => {};
  const decoder = new TextDecoder();
  const ack = new TextEncoder().encode("+ACK");
  acks = 0;
  const start = process.cpuUsage();
  await feed((msg) => {
    const result = v.safeParse(schema, JSON.parse(decoder.decode(msg.data)));
    if (!result.success) throw new Error("invalid message in the bench");
    handler(result.output).then(() => {
      msg.respond(ack);
      if (++seen === N) done();
    });
  }, finished);
  const result = cpu(start);
  if (acks !== N) throw new Error(`raw acked ${acks} of ${N}`);
  return result;
}

const runs: Record<"walnats" | "raw", number[]> = { walnats: [], raw: [] };
for (let round = 0; round < ROUNDS; round++) {
  runs.raw.push(await raw());
  runs.walnats.push(await walnats());
}
await nc.close();
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1]!;
console.log(
  `${runtime}: ${N} messages of ${payload.length} bytes, maxJobs ${MAX_JOBS}, CPU µs per message, ` +
    `median of ${ROUNDS} interleaved rounds`,
);
for (const name of ["raw", "walnats"] as const) {
  console.log(
    `  ${name.padEnd(8)} ${median(runs[name]).toFixed(2)}  (rounds: ${
      runs[name].map((x) => x.toFixed(2)).join(" ")
    })`,
  );
}
const pairs = runs.walnats.map((w, i) => w - runs.raw[i]!);
console.log(`  walnats − raw, per round, median: ${median(pairs).toFixed(2)} µs`);
