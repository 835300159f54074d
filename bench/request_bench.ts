/**
 * Request/response round trip: walnats against hand-written nats.js, in one run on
 * one nats-server (started here through `testing.ts`).
 *
 * - walnats: `ConnectedEvents.request` to an `Actor` whose handler returns `n + 1`.
 * - baseline: the same wire exchange written directly on nats.js: the caller publishes
 *   the number to the stream's subject with a `Walnats-Reply` inbox header (a core
 *   publish, as `request` does) and waits on one wildcard inbox subscription; a
 *   responder on its own connection pulls with `consume()`, acks and publishes the
 *   answer to the inbox with core NATS.
 *
 * Requests are sequential (the next starts when the previous is answered). After a
 * warm-up, blocks of 50 of both run in turns so that drift spreads over both, 5,000
 * requests per side: the p99 is then the 50th-slowest, which one pause of the process
 * (a garbage collection, another program on the machine) does not move. Prints
 * p50 / p99 / mean per side and the ratio walnats / baseline.
 *
 * `deno run -A bench/request_bench.ts` or `bun bench/request_bench.ts`; `--smoke`
 * (or `WALNATS_BENCH_SMOKE=1`) runs 50 requests per side, for CI.
 *
 * @module
 */
import process from "node:process";
import * as v from "valibot";
import {
  AckPolicy,
  type ConsumerMessages,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
} from "@nats-io/jetstream";
import { createInbox, headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { Actor } from "../src/actors/actor.ts";
import { Actors } from "../src/actors/actors.ts";
import type { Logger } from "../src/_logger.ts";
import { connect } from "../src/connection.ts";
import { Event } from "../src/events/event.ts";
import { Events } from "../src/events/events.ts";
import { startNatsServer } from "../testing.ts";

const SMOKE = process.argv.includes("--smoke") || process.env.WALNATS_BENCH_SMOKE === "1";
const REQUESTS = SMOKE ? 50 : 5_000;
const WARMUP = SMOKE ? 5 : 100;
const BLOCK = SMOKE ? 25 : 50;
const TIMEOUT = 10_000;

const quiet: Logger = { error: console.error, warn() {}, info() {} };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One side of the comparison: a request function and how to stop its responder. */
interface Side {
  name: string;
  request(n: number): Promise<number>;
  close(): Promise<void>;
}

async function walnatsSide(url: string): Promise<Side> {
  const event = new Event("bench-walnats", v.number()).withResponse(v.number());
  const events = await new Events(event).connect(url);
  await events.register();
  const actors = await new Actors(new Actor("bench-responder", event, (n) => n + 1)).connect(url);
  await actors.register();
  const controller = new AbortController();
  const listening = actors.listen({ signal: controller.signal, logger: quiet });
  return {
    name: "walnats request + Actor",
    request: (n) => events.request(event, n, { timeout: TIMEOUT }),
    async close() {
      controller.abort();
      await listening;
      await actors.close();
      await events.close();
    },
  };
}

async function baselineSide(url: string): Promise<Side> {
  const subject = "bench-raw";
  const caller = await connect(url);
  const responder = await connect(url);
  const jsm = await jetstreamManager(caller);
  await jsm.streams.add({
    name: subject,
    subjects: [subject],
    retention: RetentionPolicy.Interest,
  });
  await jsm.consumers.add(subject, { durable_name: "raw", ack_policy: AckPolicy.Explicit });
  const messages = await (await jetstream(responder).consumers.get(subject, "raw")).consume();
  const responding = respond(responder, messages);

  const prefix = createInbox();
  const waiting = new Map<string, (value: number) => void>();
  caller.subscribe(`${prefix}.*`, {
    callback: (_err, msg) => {
      const token = msg.subject.slice(prefix.length + 1);
      waiting.get(token)?.(Number(decoder.decode(msg.data)));
      waiting.delete(token);
    },
  });
  let counter = 0;
  return {
    name: "nats.js by hand",
    request(n) {
      const token = (++counter).toString(36);
      const h = natsHeaders();
      h.set("Walnats-Reply", `${prefix}.${token}`);
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no answer to ${n}`)), TIMEOUT);
        waiting.set(token, (value) => {
          clearTimeout(timer);
          resolve(value);
        });
        caller.publish(subject, encoder.encode(JSON.stringify(n)), { headers: h });
      });
    },
    async close() {
      await messages.close();
      await responding;
      await responder.close();
      await caller.close();
    },
  };
}

async function respond(nc: NatsConnection, messages: ConsumerMessages): Promise<void> {
  for await (const msg of messages) {
    const reply = msg.headers?.get("Walnats-Reply");
    const n = msg.json<number>();
    msg.ack();
    if (reply) nc.publish(reply, encoder.encode(JSON.stringify(n + 1)));
  }
}

/** Send `count` requests one after another; the latency of each, in milliseconds. */
async function run(side: Side, count: number, from: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let n = from; n < from + count; n++) {
    const start = performance.now();
    const answer = await side.request(n);
    latencies.push(performance.now() - start);
    if (answer !== n + 1) throw new Error(`${side.name}: ${n} was answered with ${answer}`);
  }
  return latencies;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

interface Summary {
  p50: number;
  p99: number;
  mean: number;
}

function summarize(latencies: readonly number[]): Summary {
  const sorted = [...latencies].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, x) => sum + x, 0) / sorted.length;
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), mean };
}

const runtime = typeof Deno !== "undefined"
  ? `Deno ${Deno.version.deno}`
  : `Bun ${(globalThis as { Bun?: { version: string } }).Bun?.version ?? "?"}`;

const server = await startNatsServer();
const sides: Side[] = [];
try {
  sides.push(await walnatsSide(server.url));
  sides.push(await baselineSide(server.url));
  for (const side of sides) await run(side, WARMUP, 0);
  const latencies = new Map<Side, number[]>(sides.map((side) => [side, []]));
  for (let done = 0; done < REQUESTS; done += BLOCK) {
    const count = Math.min(BLOCK, REQUESTS - done);
    for (const side of sides) latencies.get(side)!.push(...await run(side, count, done));
  }
  const probe = await connect(server.url);
  const version = probe.info?.version ?? "?";
  await probe.close();

  const [ours, baseline] = sides.map((side) => summarize(latencies.get(side)!)) as [
    Summary,
    Summary,
  ];
  const ms = (x: number): string => `${x.toFixed(3)} ms`.padStart(11);
  const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}x`.padStart(11);
  console.log(
    `${runtime}${SMOKE ? " (smoke)" : ""}, nats-server ${version}: ` +
      `request round trip, ${REQUESTS} sequential requests per side`,
  );
  console.log(`${"".padEnd(26)}${"p50".padStart(11)}${"p99".padStart(11)}${"mean".padStart(11)}`);
  for (const [side, summary] of [[sides[0], ours], [sides[1], baseline]] as const) {
    console.log(
      `${side?.name.padEnd(26)}${ms(summary.p50)}${ms(summary.p99)}${ms(summary.mean)}`,
    );
  }
  console.log(
    `${"walnats / baseline".padEnd(26)}${ratio(ours.p50, baseline.p50)}` +
      `${ratio(ours.p99, baseline.p99)}${ratio(ours.mean, baseline.mean)}`,
  );
} finally {
  for (const side of sides) await side.close();
  await server.stop();
}
