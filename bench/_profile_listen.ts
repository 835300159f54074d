/**
 * The two halves of `bench/profile_listen.sh` (read its header): with `FILL=1`, declare the
 * event and the actor's consumer and store `N` messages; otherwise consume them, with
 * walnats (`listen()` with default options) or, with `RAW=<max_messages>`, with raw nats.js
 * `consume()` in its callback form, decoding and validating as walnats does. `URL` names
 * the server. Prints the rate.
 *
 * @module
 */
import process from "node:process";
import * as v from "valibot";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "../src/connection.ts";
import { Actor, Actors, Event, Events, type Logger } from "../mod.ts";

const N = Number(process.env.N ?? 100_000);
const URL = process.env.URL;
if (!URL) throw new Error("URL must name the nats-server (run bench/profile_listen.sh)");
const schema = v.object({ id: v.number(), body: v.string() });
const body = "x".repeat(80);
const event = new Event("prof.ev", schema);
const quiet: Logger = { error: console.error, warn: console.warn, info() {} };
const stop = new AbortController();
let handled = 0;
// deno-lint-ignore require-await
async function handler(): Promise<void> {
  if (++handled === N) stop.abort();
}
const actor = new Actor("prof", event, handler);

async function report(who: string, ms: number): Promise<void> {
  console.log(
    `${who} handled ${handled} in ${ms.toFixed(0)} ms: ${(handled / ms * 1000).toFixed(0)}/s`,
  );
  // HOLD=<ms>: stay alive that long, for a profiler attached from outside to stop first.
  const hold = Number(process.env.HOLD ?? 0);
  if (hold > 0) await new Promise((resolve) => setTimeout(resolve, hold));
}

if (process.env.FILL) {
  await using events = await new Events(event).connect(URL);
  await events.register();
  await using actors = await new Actors(actor).connect(URL);
  await actors.register();
  const window: Promise<unknown>[] = [];
  for (let i = 0; i < N; i++) {
    window.push(events.emit(event, { id: i, body }, { sync: true }));
    if (window.length >= 512) await Promise.all(window.splice(0));
  }
  await Promise.all(window);
} else if (process.env.RAW) {
  const nc = await connect(URL);
  const consumer = await jetstream(nc).consumers.get(event.streamName, actor.consumerName);
  const start = performance.now();
  await new Promise<void>((resolve) => {
    consumer.consume({
      max_messages: Number(process.env.RAW),
      callback: (m) => {
        v.parse(schema, m.json());
        void handler().then(() => {
          m.ack();
          if (handled === N) resolve();
        });
      },
    });
  });
  await report("raw", performance.now() - start);
  await nc.close();
} else {
  await using actors = await new Actors(actor).connect(URL);
  const start = performance.now();
  const sampler = process.env.DEBUG
    ? setInterval(() => {
      const h = actors.health().actors.prof;
      if (h) console.log({ ahead: h.ahead, held: h.held, outstanding: h.outstanding, rtt: h.rtt });
    }, 100)
    : undefined;
  await actors.listen({ signal: stop.signal, logger: quiet });
  clearInterval(sampler);
  await report("walnats", performance.now() - start);
}
