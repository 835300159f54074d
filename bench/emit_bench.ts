/**
 * Emit throughput, walnats against raw nats.js in one run, 100-byte JSON messages:
 *
 * 1. `emit(event, message)` (core NATS, no confirmation) vs raw `nc.publish()` of the
 *    same bytes, followed by a flush: once as a burst (every call made before any is
 *    awaited), once awaiting each call (the raw loop then yields after each publish,
 *    since nats.js writes to the socket at each microtask checkpoint);
 * 2. `emit(event, message, { sync: true })` with W emits in flight vs raw
 *    `js.publish()` with the same window W.
 *
 *     deno run -A bench/emit_bench.ts [--smoke] [--messages 50000] [--window 256]
 *     bun bench/emit_bench.ts [--smoke]
 *
 * @module
 */
import * as v from "valibot";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "../src/connection.ts";
import { startNatsServer } from "../testing.ts";
import { countFlag, SMOKE } from "./_args.ts";
import { Event, Events, jsonSerializer } from "../mod.ts";

const N = countFlag("--messages", SMOKE ? 2_000 : 50_000);
const WINDOW = countFlag("--window", 256);
const runtime = "Deno" in globalThis ? "Deno" : "Bun" in globalThis ? "Bun" : "?";
const schema = v.object({ id: v.number(), body: v.string() });
const body = "x".repeat(100 - JSON.stringify({ id: 10000, body: "" }).length);

await using server = await startNatsServer();
const nc = await connect(server.url);
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
let round = 0;

/** A fresh event with a consumer, so the interest stream keeps what is published. */
async function freshEvent() {
  const event = new Event(`bench-emit-${++round}`, schema);
  const events = await new Events(event).connect(nc);
  await events.register();
  await jsm.consumers.add(event.streamName, { durable_name: "keep", ack_policy: AckPolicy.None });
  return { event, events };
}

async function time(fn: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await fn();
  return N / ((performance.now() - start) / 1000);
}

async function stored(stream: string): Promise<number> {
  return (await jsm.streams.info(stream)).state.messages;
}

/** Core publishes are not confirmed: wait until the stream has them all before the next case. */
async function waitStored(stream: string): Promise<void> {
  for (let i = 0; i < 400 && (await stored(stream)) < N; i++) {
    await new Promise((r) => setTimeout(r, 25));
  }
}

const results: [string, number, number][] = [];

for (let repeat = 0; repeat < (SMOKE ? 1 : 2); repeat++) {
  // 1. fire and forget, in one burst: every emit is called before any is awaited (as a
  //    loop that collects the promises), against a loop of raw publishes.
  {
    const { event } = await freshEvent();
    const raw = await time(async () => {
      for (let i = 0; i < N; i++) {
        nc.publish(event.name, jsonSerializer.encode({ id: i, body }) as Uint8Array);
      }
      await nc.flush();
    });
    const { event: e2, events } = await freshEvent();
    const ours = await time(async () => {
      const all: Promise<unknown>[] = [];
      for (let i = 0; i < N; i++) all.push(events.emit(e2, { id: i, body }));
      await Promise.all(all);
      await nc.flush();
    });
    await waitStored(e2.streamName);
    results.push(["emit vs nc.publish, burst", ours, raw]);
  }
  // 1b. fire and forget, awaiting each call. nats.js writes to the socket once per
  //     microtask checkpoint, so each await costs a write; the raw loop yields once per
  //     publish too, to pay the same.
  {
    const { event } = await freshEvent();
    const raw = await time(async () => {
      for (let i = 0; i < N; i++) {
        nc.publish(event.name, jsonSerializer.encode({ id: i, body }) as Uint8Array);
        await undefined;
      }
      await nc.flush();
    });
    const { event: e2, events } = await freshEvent();
    const ours = await time(async () => {
      for (let i = 0; i < N; i++) await events.emit(e2, { id: i, body });
      await nc.flush();
    });
    await waitStored(e2.streamName);
    results.push(["await emit vs nc.publish + await", ours, raw]);
  }
  // 2. confirmed, W in flight
  {
    const { event } = await freshEvent();
    const raw = await time(async () => {
      const window: Promise<unknown>[] = [];
      for (let i = 0; i < N; i++) {
        window.push(js.publish(event.name, jsonSerializer.encode({ id: i, body }) as Uint8Array));
        if (window.length >= WINDOW) await Promise.all(window.splice(0));
      }
      await Promise.all(window);
    });
    const { event: e2, events } = await freshEvent();
    const ours = await time(async () => {
      const window: Promise<unknown>[] = [];
      for (let i = 0; i < N; i++) {
        window.push(events.emit(e2, { id: i, body }, { sync: true }));
        if (window.length >= WINDOW) await Promise.all(window.splice(0));
      }
      await Promise.all(window);
    });
    if ((await stored(e2.streamName)) !== N) throw new Error("sync emits were not all stored");
    results.push([`emit sync vs js.publish (window ${WINDOW})`, ours, raw]);
  }
}

const fmt = (x: number) => Math.round(x).toLocaleString("en-US").padStart(9);
console.log(`${runtime}${SMOKE ? " (smoke)" : ""}: ${N} messages of 100 bytes, messages/s`);
for (const [name, ours, raw] of results) {
  console.log(
    `  ${name.padEnd(40)} walnats ${fmt(ours)}  raw ${fmt(raw)}  ${(ours / raw).toFixed(2)}×`,
  );
}
await nc.close();
