// Reproduction of issue 19 item 1: a payload of about 0.9 MiB on a server whose
// max_payload is 1 MiB, an actor with `maxAttempts: 3` that fails (or gives up at once).
// Prints how often the handler ran, how often the server delivered the message, whether a
// dead letter was stored and whether the original is still in the stream.
//
//   deno run -A tests/reliability/dead_letter_size_repro.ts     (or: bun tests/reliability/…)
import * as v from "valibot";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { startNatsServer } from "../../testing.ts";
import { Actor, Actors, Event, Events, type Logger, UnrecoverableError } from "../../mod.ts";

const payload = "x".repeat(Math.floor(0.9 * 1024 * 1024));

for (const mode of ["failing", "unrecoverable", "schema"] as const) {
  await using server = await startNatsServer({ config: "max_payload: 1048576" });
  const e = new Event(`big-${mode}`, v.object({ pad: v.string() }));
  let runs = 0;
  const a = new Actor("worker", e, () => {
    runs++;
    if (mode === "unrecoverable") throw new UnrecoverableError("no");
    throw new Error("failing");
  }, { maxAttempts: 3, retryDelay: [20], ackWait: 2000 });
  await using conn = await new Actors(a).connect(server.url);
  await conn.register();
  await using events = await new Events(e).connect(server.url);
  if (mode === "schema") {
    await jetstream(events.connection).publish(e.name, JSON.stringify({ pad: 1, big: payload }));
  } else {
    await events.emit(e, { pad: payload }, { sync: true });
  }
  // Each delivery that reaches the end (give-up, retry or kept) logs one line about message 1.
  const lines: string[] = [];
  const record = (m: string) => void lines.push(m);
  const logger: Logger = { error: record, warn: record, info() {} };
  const stop = new AbortController();
  const listening = conn.listen({ signal: stop.signal, logger });
  await new Promise((r) => setTimeout(r, 4000));
  stop.abort();
  await listening;
  const jsm = await jetstreamManager(events.connection);
  const left = (await jsm.streams.info(e.streamName)).state.messages;
  // The consumer sequence counts every delivery, redeliveries included.
  const deliveries = (await jsm.consumers.info(e.streamName, "worker")).delivered.consumer_seq;
  const dead = await jsm.streams.info(a.deadLetters!.streamName).then(
    (s) => s.state.messages,
    () => 0,
  );
  console.log(
    `${mode}: handler runs ${runs}, deliveries ${deliveries}, lines about message 1: ${
      lines.filter((l) => /message 1\b|seq(uence)? 1\b/.test(l)).length
    }, left in stream ${left}, dead letters ${dead}`,
  );
}
