// cluster.ts: a replicated stream on a three-server cluster, as a test would set it up.
import * as v from "valibot";
import { Event, Events } from "@walnats/walnats";
import { startNatsCluster } from "@walnats/walnats/testing";

const paymentTaken = new Event("payment-taken", v.object({ order: v.string() }), {
  limits: { replicas: 3 },
});

/** Call `fn` until it succeeds: JetStream needs a moment to elect leaders. */
async function retry<T>(fn: () => Promise<T>, attempts = 40): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt === attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

export async function withCluster(): Promise<void> {
  await using cluster = await startNatsCluster(3); // routed servers, clustered JetStream
  await using events = await new Events(paymentTaken).connect(cluster.urls);
  await retry(() => events.register());
  await cluster.servers[0].kill(); // a crash: the other two keep the stream available
  const { seq } = await retry(() =>
    events.emit(paymentTaken, { order: "o-1" }, { uid: "o-1", sync: true })
  );
  console.log(`acknowledged as message ${seq} with one server down`);
}
