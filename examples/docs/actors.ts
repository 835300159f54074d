// Samples of docs/actors.md (type-checked with `deno check examples/`).
// #region declare
import * as v from "valibot";
import { Actor, Event, type Job } from "@walnats/walnats";

export const userRegistered = new Event(
  "user-registered",
  v.object({ id: v.number(), email: v.string() }),
);

// The handler: the message (typed by the event's schema) and, if it wants it, the job.
export async function sendWelcome(user: { email: string }, job: Job): Promise<void> {
  await fetch("https://mail.example/send", {
    method: "POST",
    body: JSON.stringify({ to: user.email, template: "welcome" }),
    signal: job.signal, // aborted on jobTimeout and on shutdown
  });
}

// The actor binds them; its name is the durable consumer's name: unique per event, forever.
export const welcome = new Actor("send-welcome", userRegistered, sendWelcome);
// #endregion declare

// #region options
import { ExecuteIn, Priority } from "@walnats/walnats";

export const welcomeTuned = new Actor("send-welcome-tuned", userRegistered, sendWelcome, {
  description: "Welcome e-mail", // stored with the consumer
  ackWait: 16_000, // server redelivers after 16 s without ack or pulse
  maxAttempts: 10, // then terminate (default: unlimited)
  maxAckPending: 1000, // in progress at once, all instances together
  middlewares: [], // hooks for logs, metrics, alerts
  maxJobs: 16, // jobs of this actor at once in this process
  jobTimeout: 32_000, // abort job.signal and fail the attempt after 32 s
  executeIn: ExecuteIn.MAIN, // or THREAD / PROCESS with a worker handler
  retryDelay: [500, 1000, 2000, 4000], // before retry 1, 2, 3, then 4 s for the rest
  pulse: true, // in-progress ack every ackWait / 2 while the handler runs
  priority: Priority.NORMAL, // HIGH, NORMAL or LOW: who gets a free job slot first
});
// #endregion options

// #region steer
import { RetryLaterError, UnrecoverableError } from "@walnats/walnats";

export const charge = new Actor(
  "charge-card",
  new Event("order-placed", v.object({ order: v.string(), cents: v.number() })),
  async ({ order, cents }, job) => {
    if (cents <= 0) throw new UnrecoverableError(`order ${order}: nothing to charge`); // terminate
    const response = await fetch("https://pay.example/charge", {
      method: "POST",
      body: JSON.stringify({ order, cents }),
      signal: job.signal,
    });
    if (response.status === 429) {
      // Retry when the provider says, not on the actor's schedule (the attempt still counts).
      const seconds = Number(response.headers.get("retry-after") ?? 30);
      throw new RetryLaterError(seconds * 1000, "rate limited by the payment provider");
    }
    if (!response.ok) throw new Error(`payment provider said ${response.status}`); // retry
  },
  { maxAttempts: 8, retryDelay: [1000, 5000, 30_000, 120_000] },
);
// #endregion steer

// #region listen
import process from "node:process";
import { Actors } from "@walnats/walnats";

export async function main(): Promise<void> {
  await using actors = await new Actors(welcome, charge).connect(process.env.NATS_URL);
  await actors.register(); // create or update the durable consumers
  const stop = new AbortController();
  process.once("SIGTERM", () => stop.abort()); // what an orchestrator sends
  process.once("SIGINT", () => stop.abort()); // Ctrl-C
  await actors.listen({
    signal: stop.signal,
    maxJobs: 32, // jobs at once across all actors of this listener
    shutdownGrace: 10_000, // on abort, running jobs get 10 s before their signal aborts
  });
  // Here every message this listener pulled has been acked, naked or terminated.
}
// #endregion listen

// #region health
import { createServer } from "node:http";
import type { ConnectedActors } from "@walnats/walnats";

/** A liveness probe: 200 while the listener runs connected and no actor is healing. */
export function serveHealth(actors: ConnectedActors, port: number): void {
  createServer((_request, response) => {
    const health = actors.health();
    response.statusCode = health.listening && health.healthy ? 200 : 503;
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify(health));
  }).listen(port);
}
// #endregion health

// #region burst
export async function drainOnce(url: string): Promise<void> {
  await using actors = await new Actors(welcome).connect(url);
  await actors.register();
  // Handle what the streams hold now, then return: for tests, cron jobs, batch runs.
  await actors.listen({ burst: true });
}
// #endregion burst

// #region dead-letters
import type { DeadLetter } from "@walnats/walnats";

// What `welcome` gives up on lands in `welcome.deadLetters`, an ordinary event.
export const alertOnDeadWelcome = new Actor(
  "alert-dead-welcome",
  welcome.deadLetters!,
  async (letter: DeadLetter) => {
    // The original payload, byte for byte: decode it as the original event does.
    const original = await userRegistered.serializer.decode(letter.payload);
    console.error(
      `${letter.actor} gave up on message ${letter.streamSeq} of ${letter.event} ` +
        `after ${letter.attempts} attempt(s) (${letter.reason}): ${letter.error}`,
      original,
    );
  },
  { deadLetters: false }, // no dead letters of dead letters
);
// #endregion dead-letters
