// Fault: the server goes away for good; the connection gives up reconnecting.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startNatsServer } from "../../testing.ts";
import { Actor, Actors, Events } from "../../mod.ts";
import { uniqueName, until } from "../_helpers.ts";
import { idEvent, recordingLogger } from "./_fault.ts";

test("Actors.listen rejects, instead of hanging, when the connection closes for good", async () => {
  await using server = await startNatsServer();
  const e = idEvent(uniqueName("gone"));
  const events = await new Events(e).connect(server.url);
  await events.register();
  await events.close();
  await using conn = await new Actors(new Actor("orphan", e, () => {})).connect({
    servers: server.url,
    reconnectTimeWait: 100,
    maxReconnectAttempts: 3,
  });
  await conn.register();
  const log: string[] = [];
  const listening = conn.listen({ pollDelay: 1000, logger: recordingLogger(log) });
  listening.catch(() => {});
  await until(() => conn.health().actors.orphan?.lastPull! > 0, 5_000, "the first pull");
  await server.stop();
  await until(() => !conn.health().connected, 5_000, "health to say disconnected");
  await assert.rejects(listening, /connection to NATS closed/);
  assert.equal(conn.health().connected, false);
  assert.equal(conn.health().listening, false);
  assert.ok(log.some((l) => /disconnected from/.test(l)), log.join("\n"));
});
