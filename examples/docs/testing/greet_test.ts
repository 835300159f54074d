// greet_test.ts: `deno test -A greet_test.ts` or `bun test greet_test.ts`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Actors, Events, type Logger } from "@walnats/walnats";
import { startNatsServer } from "@walnats/walnats/testing";
import { greet, greeting, sent, userRegistered } from "./greet.ts";

test("greeting greets by name and refuses an empty one", () => {
  assert.equal(greeting({ id: 1, name: "Ada" }), "hello, Ada");
  assert.throws(() => greeting({ id: 2, name: " " }), { name: "UnrecoverableError" });
});

test("greet-user greets each user once and gives up on a nameless one", async () => {
  await using server = await startNatsServer(); // a real nats-server on a free port, temp store
  await using events = await new Events(userRegistered).connect(server.url);
  await events.register();
  await using actors = await new Actors(greet).connect(server.url);
  await actors.register(); // before emitting: a stream keeps messages only for its actors

  await events.emit(userRegistered, { id: 1, name: "Ada" }, { sync: true });
  await events.emit(userRegistered, { id: 2, name: "" }, { sync: true });
  const errors: string[] = [];
  const logger: Logger = { error: (message) => void errors.push(message), warn() {}, info() {} };
  await actors.listen({ burst: true, logger }); // handle what is there, then return

  assert.deepEqual(sent, ["hello, Ada"]);
  assert.equal(errors.length, 1);
  assert.match(errors[0] ?? "", /terminated/); // UnrecoverableError: no retry
});
