/**
 * The subscriber: an actor that greets every registered user, with retries and
 * a graceful shutdown on Ctrl-C.
 *
 *     deno run -A examples/hello/subscriber.ts
 *     bun examples/hello/subscriber.ts
 */
import { Actor, Actors } from "@walnats/walnats";
import { natsUrl, userRegistered } from "./events.ts";

/** Greets each user once; a failed attempt would be retried after 0.5 s, 1 s, 2 s… */
export const greet = new Actor(
  "greet-user",
  userRegistered,
  (user, job) => {
    console.log(`subscriber: hello, ${user.name} (user ${user.id}, attempt ${job.attempt})`);
  },
  { description: "Say hello to new users", maxAttempts: 5 },
);

/** Register the actor's consumer and handle events until `signal` aborts. */
export async function subscribe(url: string, signal: AbortSignal): Promise<void> {
  await using actors = await new Actors(greet).connect(url);
  await actors.register();
  await actors.listen({ signal });
}

/** Create the actor's durable consumer, so that events emitted from now on are kept for it. */
export async function registerSubscriber(url: string): Promise<void> {
  await using actors = await new Actors(greet).connect(url);
  await actors.register();
}

if (import.meta.main) {
  const controller = new AbortController();
  globalThis.process.once("SIGTERM", () => controller.abort()); // what orchestrators send
  globalThis.process.once("SIGINT", () => controller.abort()); // Ctrl-C
  console.log(`subscriber: listening on ${natsUrl}; Ctrl-C to stop`);
  await subscribe(natsUrl, controller.signal);
}
