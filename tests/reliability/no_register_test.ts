// Fault: a listener whose pull requests cannot be answered: the actor's consumer was never
// registered (the user forgot `register()`), or the server has no JetStream at all. Each
// pull then ends at once (503 no responders on current servers); pulling again at once
// printed thousands of identical lines. The listener backs off, logs the first failure
// with its cause and fix, counts the repeats, and still heals what can be healed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startNatsServer } from "../../testing.ts";
import { Actor, Actors, Events } from "../../mod.ts";
import { sleep, uniqueName, until } from "../_helpers.ts";
import { idEvent, recordingLogger } from "./_fault.ts";

test("Actors.listen on a server without JetStream backs off its pulls and logs a handful of lines naming the cause", async () => {
  await using server = await startNatsServer({ jetstream: false });
  const e = idEvent(uniqueName("no-js"));
  await using conn = await new Actors(new Actor("lonely", e, () => {})).connect(server.url);
  const log: string[] = [];
  const stop = new AbortController();
  const listening = conn.listen({ signal: stop.signal, logger: recordingLogger(log) });
  await sleep(2500);
  stop.abort();
  await listening;
  console.log(`no JetStream: ${log.length} log lines in 2.5 s`);
  const first = log.filter((l) => /get 503/.test(l));
  assert.equal(first.length, 1, log.join("\n"));
  assert.match(first[0]!, /no responders/);
  assert.match(first[0]!, /call Actors\.register\(\) before listen\(\)/i);
  assert.ok(log.length <= 10, `${log.length} lines:\n${log.join("\n")}`);
  // The repeats are counted, not lost: the last line says how many there were.
  assert.ok(log.some((l) => /ended \d+ more times with "503/.test(l)), log.join("\n"));
});

test("Actors.listen without register() says that register() is missing, and still recovers", async () => {
  await using server = await startNatsServer();
  const e = idEvent(uniqueName("forgot"));
  await using events = await new Events(e).connect(server.url);
  await events.register();
  const handled: number[] = [];
  // No conn.register(): the consumer does not exist.
  await using conn = await new Actors(
    new Actor("forgetful", e, ({ id }) => void handled.push(id)),
  ).connect(server.url);
  const log: string[] = [];
  const stop = new AbortController();
  const listening = conn.listen({
    signal: stop.signal,
    pollDelay: 1000,
    logger: recordingLogger(log),
  });
  try {
    await until(
      () => conn.health().actors.forgetful?.healing.recreated === 1,
      15_000,
      "the consumer to be created",
    );
    await events.emit(e, { id: 1 }, { sync: true });
    await until(() => handled.length === 1, 10_000, "the message");
    await sleep(1000);
  } finally {
    stop.abort();
    await listening;
  }
  console.log(`no register(): ${log.length} log lines`);
  assert.ok(log.some((l) => /Actors\.register\(\)/.test(l)), log.join("\n"));
  assert.ok(log.length <= 8, `${log.length} lines:\n${log.join("\n")}`);
});
