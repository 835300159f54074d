import { startNatsServer } from "./testing.ts";
import { connect } from "@nats-io/transport-node";
import { AckPolicy, jetstreamManager } from "@nats-io/jetstream";
for (
  const bin of [
    "/usr/sbin/nats-server",
    "/root/.cache/walnats/nats-server/2.10.27/nats-server",
    "/root/.cache/walnats/nats-server/2.15.1/nats-server",
  ]
) {
  await using server = await startNatsServer({ binary: bin });
  const nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  const out: string[] = [];
  let i = 0;
  const tryStream = async (label: string, cfg: Record<string, unknown>) => {
    try {
      const r = await jsm.streams.add({ name: `s${i++}`, subjects: [`s${i}`], ...cfg });
      out.push(`${label}: ok max_age=${r.config.max_age} dw=${r.config.duplicate_window}`);
    } catch (e) {
      out.push(`${label}: ${(e as Error).message}`);
    }
  };
  await tryStream("age 1ms", { max_age: 1e6 });
  await tryStream("age 99ms", { max_age: 99e6 });
  await tryStream("age 100ms", { max_age: 100e6 });
  await tryStream("age 1s", { max_age: 1e9 });
  await tryStream("age int64max-ish", { max_age: 9223372036854000000 });
  await tryStream("age 1e21", { max_age: 1e21 });
  await tryStream("age frac", { max_age: 1500000.5 });
  await tryStream("dw 1ms", { duplicate_window: 1e6 });
  await tryStream("dw int64", { duplicate_window: 9223372036854000000 });
  await tryStream("dw > age", { max_age: 60e9, duplicate_window: 120e9 });
  await tryStream("age 1s no dw", { max_age: 1e9 });
  await jsm.streams.add({ name: "c", subjects: ["c"] });
  const tryCons = async (label: string, cfg: Record<string, unknown>) => {
    try {
      const r = await jsm.consumers.add("c", {
        durable_name: `c${i++}`,
        ack_policy: AckPolicy.Explicit,
        ...cfg,
      });
      out.push(`${label}: ok ack_wait=${r.config.ack_wait}`);
    } catch (e) {
      out.push(`${label}: ${(e as Error).message}`);
    }
  };
  await tryCons("ackWait 1ms", { ack_wait: 1e6 });
  await tryCons("ackWait 1ns", { ack_wait: 1 });
  await tryCons("ackWait int64", { ack_wait: 9223372036854000000 });
  await tryCons("ackWait 1e21", { ack_wait: 1e21 });
  console.log(bin, "\n  " + out.join("\n  "));
  await nc.close();
}
