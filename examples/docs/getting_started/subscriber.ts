// subscriber.ts: an actor that reacts to every order, until SIGTERM or Ctrl-C.
import process from "node:process";
import { Actor, Actors, type Job } from "@walnats/walnats";
import { orderPlaced } from "./events.ts";
import { serveProbes } from "./probes.ts";

// The handler is a plain function: it knows nothing of NATS, so a unit test just calls it.
export function sendConfirmation(order: { id: string; email: string }, job: Job): void {
  console.log(`confirming order ${order.id} to ${order.email} (attempt ${job.attempt})`);
}

export const confirmOrder = new Actor("send-confirmation", orderPlaced, sendConfirmation, {
  maxAttempts: 5, // then give up (terminate); each retry waits 0.5 s, 1 s, 2 s, 4 s…
});

if (import.meta.main) {
  await using actors = await new Actors(confirmOrder).connect(process.env.NATS_URL);
  await actors.register(); // the durable consumer (and the stream, if no publisher made it yet)
  const stop = new AbortController();
  // SIGTERM is what Kubernetes, systemd and Docker send to stop a process; SIGINT is Ctrl-C.
  // Without a handler SIGTERM kills the process at once, in the middle of its jobs.
  process.once("SIGTERM", () => stop.abort());
  process.once("SIGINT", () => stop.abort());
  const probes = serveProbes(actors, Number(process.env.PROBE_PORT ?? 8080));
  console.log("listening; Ctrl-C to stop");
  await actors.listen({ signal: stop.signal }); // resolves once running jobs are settled
  probes.close();
}
