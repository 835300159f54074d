// Fault: in a 3-node cluster, the node that leads an R3 stream dies mid-run.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsCluster } from "../../testing.ts";
import { Actor, Actors, Events } from "../../mod.ts";
import { sleep, uniqueName, until } from "../_helpers.ts";
import { idEvent, recordingLogger, resilient, sendAll } from "./_fault.ts";

const total = Number(process.env.WALNATS_CLUSTER_MESSAGES ?? 3000);

/**
 * Retry `fn` while the cluster elects its JetStream leaders (on 2.10.27 under Bun, once, the
 * peers were still not placeable after 30 s: "no suitable peers for placement").
 */
async function settle<T>(fn: () => Promise<T>, what: string, timeout = 60_000): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`Cannot ${what}: ${error}`, { cause: error });
      await sleep(250);
    }
  }
}

test(`Actors.listen loses nothing when the node leading an R3 stream dies (${total} sync emits)`, async () => {
  await using cluster = await startNatsCluster(3);
  const e = idEvent(uniqueName("failover"), 3);
  await using events = await new Events(e).connect(resilient(cluster.urls));
  await settle(() => events.register(), "register the R3 stream");
  const counts = new Map<number, number>();
  await using conn = await new Actors(
    new Actor("steady", e, ({ id }) => void counts.set(id, (counts.get(id) ?? 0) + 1)),
  ).connect(resilient(cluster.urls));
  await settle(() => conn.register(), "register the consumer");
  const jsm = await jetstreamManager(events.connection);
  const stream = await jsm.streams.info(e.streamName);
  assert.equal(stream.config.num_replicas, 3);
  const log: string[] = [];
  const controller = new AbortController();
  let settled = false;
  const listening = conn.listen({
    signal: controller.signal,
    pollDelay: 1000,
    logger: recordingLogger(log),
  });
  listening.then(() => settled = true, () => settled = true);

  let killed: Promise<string> | undefined;
  const started = Date.now();
  const { retries } = await sendAll(
    total,
    (id) => events.emit(e, { id }, { uid: `m-${id}`, sync: true }),
    {
      onSent: (sent) => {
        if (sent !== Math.floor(total / 3)) return;
        killed = (async () => {
          const info = await jsm.streams.info(e.streamName);
          const leader = info.cluster?.leader ?? "";
          const index = Number(/-n(\d+)$/.exec(leader)?.[1]) - 1;
          const node = cluster.servers[index];
          assert.ok(node, `leader "${leader}" is one of ours`);
          await node.kill();
          return leader;
        })();
      },
    },
  );
  const leader = await killed!;
  await until(() => counts.size === total, 90_000, `all ${total} messages handled`);
  const elapsed = Date.now() - started;
  const after = await settle(() => jsm.streams.info(e.streamName), "read the stream");
  assert.notEqual(after.cluster?.leader, leader, "another node leads the stream now");
  assert.equal(settled, false, "the same listen() call kept running");
  controller.abort();
  await listening;
  assert.equal(counts.size, total, "every message handled");
  const duplicates = [...counts.values()].reduce((sum, n) => sum + n - 1, 0);
  console.log(
    `cluster failover: stream leader ${leader} killed after ${Math.floor(total / 3)} of ` +
      `${total} sync emits (${retries} retried); all handled in ${elapsed} ms, ` +
      `${duplicates} handled more than once`,
  );
});
