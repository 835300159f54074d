// Run after a plain install (no OpenTelemetry, no prom-client): the core entry points
// must not need the optional peer dependencies.
import * as v from "valibot";
import { Actor, Actors, Event, Events } from "@walnats/walnats";
import { startNatsServer } from "@walnats/walnats/testing";
import { main } from "@walnats/walnats/cli";

const greeted = new Event("plain-greeted", v.string()).withResponse(v.string());
const greeter = new Actor("plain-greeter", greeted, (name) => `hello, ${name}`);
const server = await startNatsServer();
try {
  const events = await new Events(greeted).connect(server.url);
  await events.register();
  const actors = await new Actors(greeter).connect(server.url);
  await actors.register();
  const stop = new AbortController();
  const listening = actors.listen({ signal: stop.signal });
  const answer = await events.request(greeted, "Ada", { timeout: 10_000 });
  stop.abort();
  await listening;
  await actors.close();
  await events.close();
  if (answer !== "hello, Ada") throw new Error(`plain install: answered ${answer}`);
  let usage = "";
  const code = await main(["--help"], { stdout: (t) => usage += t, stderr: (t) => usage += t });
  if (code !== 0 || !usage.startsWith("Usage: walnats")) throw new Error("plain install: cli");
  console.log("plain install: request and cli work without the optional peers");
} finally {
  await server.stop();
}
