// Fault: the nats-server (file store) restarts in the middle of a run of sync emits.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { jetstreamManager, RetentionPolicy } from "@nats-io/jetstream";
import { type NatsServer, startNatsServer } from "../../testing.ts";
import { Actor, Actors, Events } from "../../mod.ts";
import { uniqueName, until } from "../_helpers.ts";
import { idEvent, recordingLogger, resilient, sendAll } from "./_fault.ts";

const total = Number(process.env.WALNATS_RESTART_MESSAGES ?? 10_000);

async function restartMidRun(
  how: "crash" | "graceful",
  retention: "interest" | "limits",
): Promise<void> {
  await using server = await startNatsServer();
  const e = idEvent(uniqueName("restart"));
  await using events = await new Events(e).connect(resilient(server.url));
  if (retention === "limits") {
    const jsm = await jetstreamManager(events.connection);
    await jsm.streams.add({
      name: e.streamName,
      subjects: [e.name],
      retention: RetentionPolicy.Limits,
    });
  } else {
    await events.register();
  }
  const counts = new Map<number, number>();
  await using conn = await new Actors(
    new Actor("survivor", e, ({ id }) => void counts.set(id, (counts.get(id) ?? 0) + 1)),
  ).connect(resilient(server.url));
  await conn.register();
  const log: string[] = [];
  const controller = new AbortController();
  let settled = false;
  const listening = conn.listen({
    signal: controller.signal,
    pollDelay: 1000,
    logger: recordingLogger(log),
  });
  listening.then(() => settled = true, () => settled = true);

  const started = Date.now();
  let restart: Promise<void> | undefined;
  let sawDisconnected = false;
  const watch = setInterval(() => {
    if (!conn.health().connected) sawDisconnected = true;
  }, 5);
  const { retries } = await sendAll(
    total,
    (id) => events.emit(e, { id }, { uid: `m-${id}`, sync: true }),
    {
      onSent: (sent) => {
        if (sent === Math.floor(total * 0.3)) restart = bounce(server, how);
      },
    },
  );
  await restart;
  await until(() => counts.size === total, 90_000, `all ${total} messages handled`);
  const elapsed = Date.now() - started;
  await until(() => conn.health().healthy, 10_000, "healthy again");
  clearInterval(watch);
  const { recoveries } = conn.health().actors.survivor!.healing;
  assert.equal(settled, false, "the same listen() call kept running");
  controller.abort();
  await listening;

  assert.equal(counts.size, total, "every message handled");
  const duplicates = [...counts.values()].reduce((sum, n) => sum + n - 1, 0);
  assert.ok(sawDisconnected, "health() reported the disconnection");
  assert.ok(recoveries >= 1);
  assert.ok(log.some((l) => /disconnected from/.test(l)), log.join("\n"));
  assert.ok(log.some((l) => /reconnected to/.test(l)), log.join("\n"));
  assert.ok(log.some((l) => /pulling again/.test(l)), log.join("\n"));
  console.log(
    `server ${how} restart (${retention} stream): ${total} sync emits (${retries} retried), ` +
      `all handled in ${elapsed} ms, ${duplicates} handled more than once`,
  );
}

async function bounce(server: NatsServer, how: "crash" | "graceful"): Promise<void> {
  if (how === "crash") await server.kill();
  await server.restart();
}

test(`Actors.listen resumes by itself after a crash restart of the server mid-run (${total} sync emits)`, async () => {
  await restartMidRun("crash", "interest");
});

// A graceful restart of nats-server 2.9 under load drops messages of interest streams
// that it acknowledged during its shutdown (reproduced without walnats by
// interest_restart_repro.ts; see RELIABILITY.md), so the listener's side of a graceful
// restart is shown on a limits stream.
test(`Actors.listen resumes by itself after a graceful restart of the server mid-run (${total} sync emits)`, async () => {
  await restartMidRun("graceful", "limits");
});
