// Fault: the server freezes (SIGSTOP) for longer than the heartbeat interval, then resumes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startNatsServer } from "../../testing.ts";
import { Actor, Actors, Events } from "../../mod.ts";
import { sleep, uniqueName, until } from "../_helpers.ts";
import { idEvent, recordingLogger } from "./_fault.ts";

test("Actors.listen recovers after the server was frozen longer than its heartbeats", async () => {
  await using server = await startNatsServer();
  const e = idEvent(uniqueName("frozen"));
  await using events = await new Events(e).connect(server.url);
  await events.register();
  const handled = new Set<number>();
  await using conn = await new Actors(
    new Actor("patient", e, ({ id }) => void handled.add(id)),
  ).connect(server.url);
  await conn.register();
  const log: string[] = [];
  const controller = new AbortController();
  let settled = false;
  // pollDelay 1000: heartbeats every 500 ms, silence noticed after 2 s.
  const listening = conn.listen({
    signal: controller.signal,
    pollDelay: 1000,
    logger: recordingLogger(log),
  });
  listening.then(() => settled = true, () => settled = true);
  for (let id = 0; id < 50; id++) await events.emit(e, { id }, { sync: true });
  await until(() => handled.size === 50, 10_000, "the first messages");

  await server.pause();
  const frozen = Date.now();
  let noticed = 0;
  try {
    await until(
      () => conn.health().actors.patient!.healing.state !== "ok",
      10_000,
      "the listener to notice the silence",
    );
    noticed = Date.now() - frozen;
    assert.equal(conn.health().healthy, false);
    // Longer than the JetStream API timeout (5 s): the check itself fails and is retried.
    await until(
      () => conn.health().actors.patient!.healing.state === "retrying",
      10_000,
      "a failed check to be retried",
    );
    await sleep(Math.max(0, 7000 - (Date.now() - frozen)));
  } finally {
    await server.resume();
  }
  const resumed = Date.now();
  await until(() => conn.health().healthy, 20_000, "healthy again").catch((error) => {
    throw new Error(
      `${error.message}; health ${JSON.stringify(conn.health())}; log:\n${log.join("\n")}`,
    );
  });
  const recovered = Date.now() - resumed;
  const { lastError, attempts } = conn.health().actors.patient!.healing;
  assert.match(lastError ?? "", /timeout/i);
  for (let id = 50; id < 100; id++) await events.emit(e, { id }, { sync: true });
  await until(() => handled.size === 100, 15_000, "messages emitted after the freeze");
  assert.equal(settled, false, "the same listen() call kept running");
  controller.abort();
  await listening;
  assert.ok(log.some((l) => /no answer to its pull requests/.test(l)), log.join("\n"));
  assert.ok(log.some((l) => /pulling again/.test(l)), log.join("\n"));
  assert.ok(log.some((l) => /cannot check .*retrying in/.test(l)), log.join("\n"));
  console.log(
    `server frozen 7 s: silence noticed after ${noticed} ms, pulling again ${recovered} ms ` +
      `after the resume (attempt ${attempts}); 100 of 100 handled`,
  );
});
