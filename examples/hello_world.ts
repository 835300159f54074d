/**
 * The hello-world demo: a publisher and a subscriber, against `NATS_URL` if it is set,
 * else against a nats-server this script starts (and stops) itself.
 *
 *     npm run demo                      # Deno
 *     npm run demo -- bun               # Bun
 *     NATS_URL=nats://host:4222 npm run demo
 */
import { Actors } from "@walnats/walnats";
import { startNatsServer } from "@walnats/walnats/testing";
import { publish } from "./hello/publisher.ts";
import { greet, registerSubscriber } from "./hello/subscriber.ts";
import { userRegistered } from "./hello/events.ts";

const runtime = "Deno" in globalThis ? "Deno" : "Bun" in globalThis ? "Bun" : "another runtime";
const given = globalThis.process.env.NATS_URL;
await using server = given ? undefined : await startNatsServer();
const url = given ?? server!.url;
console.log(
  `demo: ${runtime}, NATS at ${url}${given ? "" : " (a nats-server started for the demo)"}`,
);

// Streams keep events only for the actors registered on them (interest retention),
// so the subscriber's consumer exists before the publisher emits.
await registerSubscriber(url);
await publish(url, ["Ada", "Grace", "Barbara"]);

// Handle what is in the stream, then return (`burst`); a service would listen until stopped.
await using actors = await new Actors(greet).connect(url);
await actors.listen({ burst: true });
console.log(`demo: done; every ${userRegistered.name} event was handled and acknowledged`);
