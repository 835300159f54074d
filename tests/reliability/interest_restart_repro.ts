// Reproduction, with nats.js only (no walnats), of a nats-server 2.9 defect that the
// fault-injection suite met: a graceful restart (SIGTERM) of a server whose interest
// stream is being published to and consumed drops messages it had acknowledged to the
// publisher; a limits stream under the same load keeps them all. See RELIABILITY.md.
//
//   deno run -A tests/reliability/interest_restart_repro.ts     (or: bun tests/reliability/…)
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { startNatsServer } from "../../testing.ts";

const total = 6000;
const decoder = new TextDecoder();

for (const retention of [RetentionPolicy.Interest, RetentionPolicy.Limits]) {
  await using server = await startNatsServer();
  const options = { servers: server.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 };
  const publisher = await connect(options);
  const subscriber = await connect(options);
  const jsm = await jetstreamManager(publisher);
  await jsm.streams.add({ name: "s", subjects: ["s"], retention });
  // A short ack_wait, so that what was in flight at the restart comes back within the wait.
  await jsm.consumers.add("s", {
    durable_name: "c",
    ack_policy: AckPolicy.Explicit,
    ack_wait: 2_000_000_000,
  });
  const received = new Set<string>();
  const consumer = await jetstream(subscriber).consumers.get("s", "c");
  const messages = await consumer.consume({ max_messages: 16, expires: 1000 });
  (async () => {
    for await (const m of messages) {
      received.add(decoder.decode(m.data));
      m.ack();
    }
  })();
  const js = jetstream(publisher);
  let acked = 0;
  let next = 0;
  let restart: Promise<void> | undefined;
  const lane = async () => {
    while (next < total) {
      const id = next++;
      for (;;) {
        try {
          await js.publish("s", String(id), { msgID: `m-${id}` });
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      if (++acked === total / 3) restart = server.restart();
    }
  };
  await Promise.all(Array.from({ length: 32 }, lane));
  await restart;
  const deadline = Date.now() + 10_000;
  while (received.size < total && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
  }
  const state = (await jsm.streams.info("s")).state;
  console.log(
    `${retention} stream, graceful restart: ${acked} acknowledged, ${received.size} received, ` +
      `${
        total - received.size
      } lost; stream now holds ${state.messages} (last seq ${state.last_seq})`,
  );
  messages.stop();
  await subscriber.close();
  await publisher.close();
}
