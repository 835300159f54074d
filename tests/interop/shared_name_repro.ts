// What happens to the durable consumer when a Python walnats actor and a walnats actor share a
// name (docs/python.md, "Actors and consumers"). The Python side is replayed with the request
// the Python walnats makes on register: nats.py's `add_consumer` sends
// `$JS.API.CONSUMER.DURABLE.CREATE.<stream>.<durable>` with the config of
// `Actor._consumer_config` (walnats/_actors/_actor.py): durable name, ack_wait, max_deliver =
// max_attempts, max_ack_pending, and nats.py's defaults (deliver all, explicit ack, instant
// replay); no filter subject.
//
//   deno run -A tests/interop/shared_name_repro.ts     (or: bun tests/interop/shared_name_repro.ts)
//   NATS_SERVER_BIN=/path/to/nats-server deno run -A tests/interop/shared_name_repro.ts
import * as v from "valibot";
import { type ConsumerConfig, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { startNatsServer } from "../../testing.ts";
import { Actor, Actors, Event, Events } from "../../mod.ts";

async function pythonRegister(
  nc: NatsConnection,
  stream: string,
  name: string,
  maxAttempts: number,
): Promise<string> {
  const config = {
    durable_name: name,
    deliver_policy: "all",
    ack_policy: "explicit",
    replay_policy: "instant",
    ack_wait: 16_000_000_000, // ack_wait=16 s, as nanoseconds
    max_deliver: maxAttempts,
    max_ack_pending: 1000,
  };
  const reply = await nc.request(
    `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${name}`,
    JSON.stringify({ stream_name: stream, config }),
  );
  const answer = reply.json<{ error?: { description: string } }>();
  return answer.error ? `error: ${answer.error.description}` : "ok";
}

function settings(config: ConsumerConfig): string {
  return `filter_subject=${config.filter_subject ?? "(none)"} max_deliver=${config.max_deliver}`;
}

await using server = await startNatsServer();
const e = new Event("job-queued", v.string());
const actor = new Actor("worker", e, () => {}, { maxAttempts: 3 });
await using events = await new Events(e).connect(server.url);
await events.register();
await using actors = await new Actors(actor).connect(server.url);
const nc = await connect({ servers: server.url });
const jsm = await jetstreamManager(nc);
const show = async (step: string) => {
  const info = await jsm.consumers.info(e.streamName, actor.name);
  console.log(`${step.padEnd(40)} ${settings(info.config)}`);
};
const ours = async (step: string) => {
  try {
    await actors.register();
    await show(`${step}: ok`);
  } catch (error) {
    console.log(`${step}: ${(error as Error).message}`);
    await show("  left on the server");
  }
};

console.log(`nats-server ${nc.info?.version}`);
await ours("TypeScript register");
await show(`Python register: ${await pythonRegister(nc, e.streamName, actor.name, 3)}`);
await ours("TypeScript register again");
await jsm.consumers.delete(e.streamName, actor.name);
await show(`Python first: ${await pythonRegister(nc, e.streamName, actor.name, 3)}`);
await ours("then TypeScript register");
await nc.close();
